// The review app's behaviour: transcript synced to the audio, and the keyboard shortcuts.
// Plain script, no build step; the pages work without it (forms and links), this makes them quick.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const help = $("#help");
  const player = $("#player");

  // --- the call page: audio and transcript -------------------------------------------------
  const lines = $$(".line[data-start]");
  function seek(t, play) {
    if (!player) return;
    player.currentTime = t;
    if (play) player.play().catch(() => {});  // a browser may refuse autoplay: the seek still holds
  }
  if (player) {
    const start = parseFloat(player.dataset.start || "0");
    if (start > 0) {
      player.addEventListener("loadedmetadata", () => { player.currentTime = start; }, { once: true });
    }
    let playing = null;
    player.addEventListener("timeupdate", () => {
      const t = player.currentTime;
      const now = lines.find((l) => t >= parseFloat(l.dataset.start) && t < parseFloat(l.dataset.end)) || null;
      if (now === playing) return;
      if (playing) playing.classList.remove("playing");
      playing = now;
      if (now) {
        now.classList.add("playing");
        if (!player.paused) now.scrollIntoView({ block: "nearest" });
      }
    });
    lines.forEach((l) => l.addEventListener("click", () => seek(parseFloat(l.dataset.start), true)));
    $$("button.seek").forEach((b) => b.addEventListener("click", () => seek(parseFloat(b.dataset.at), true)));
    const track = $("#track");
    if (track) {
      track.addEventListener("change", () => {  // another track at the same second
        const t = player.currentTime;
        player.src = track.value;
        player.addEventListener("loadedmetadata", () => { player.currentTime = t; }, { once: true });
      });
    }
  }

  // --- the items j/k move over: queue rows, or the flags of a call ------------------------
  const rows = $$("tr.flagrow");
  const cards = $$("article.flag");
  const items = rows.length ? rows : cards;
  const memo = "sel:" + location.pathname;
  let current = -1;
  function select(i) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, i));
    items.forEach((el, j) => el.classList.toggle("current", j === current));
    items[current].scrollIntoView({ block: "nearest" });
    if (cards.length && player) seek(parseFloat(items[current].dataset.at), false);
  }
  if (rows.length) {
    select(parseInt(sessionStorage.getItem(memo) || "0", 10));
  } else if (cards.length) {
    const chosen = cards.findIndex((c) => c.classList.contains("chosen"));
    if (chosen >= 0) { current = chosen; cards[chosen].classList.add("current"); }
  }

  function decide(decision) {
    if (current < 0) return;
    const item = items[current];
    if (rows.length) {  // the queue: the bulk form with this one flag ticked, its note box
      sessionStorage.setItem(memo, String(current));
      $$("input[name=flag]").forEach((box) => { box.checked = box.value === item.dataset.flag; });
      const form = $("#bulk");
      form.requestSubmit(form.querySelector(`button[value=${decision}]`));
    } else {
      const form = $("form.review", item);
      form.requestSubmit(form.querySelector(`button[value=${decision}]`));
    }
  }

  function nextUnreviewed() {
    if (rows.length) {
      if (current >= 0) location.href = items[current].dataset.href;
      return;
    }
    const after = cards.findIndex((c, j) => j > current && c.dataset.status === "new");
    if (after >= 0) { select(after); return; }
    const call = (player || $("#noaudio") || {}).dataset;
    location.href = "/flags/next" + (call && call.call ? "?skip_call=" + call.call : "");
  }

  const all = $("#all");
  if (all) all.addEventListener("change", () => $$("input[name=flag]").forEach((b) => { b.checked = all.checked; }));

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const typing = ev.target.closest && ev.target.closest("input, textarea, select");
    if (typing) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    switch (ev.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "c": decide("confirmed"); break;
      case "d": decide("dismissed"); break;
      case "n": nextUnreviewed(); break;
      case "Enter": if (rows.length && current >= 0) location.href = items[current].dataset.href; else return; break;
      case " ":
        if (player) { if (player.paused) player.play().catch(() => {}); else player.pause(); }
        else if (rows.length && current >= 0) { const box = $("input[name=flag]", items[current]); box.checked = !box.checked; }
        else return;
        break;
      case "?": if (help) help.hidden = !help.hidden; break;
      case "Escape": if (help) help.hidden = true; break;
      default: return;
    }
    ev.preventDefault();
  });
})();
