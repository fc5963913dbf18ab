"""The QA review web application (FastAPI + Jinja2), started by ``hotline qa web``."""
