"""Who uses Hotline: accounts, their roles, and what each role may do."""
