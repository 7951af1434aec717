// Rapid-fire: count down the seconds the case set gives each case (server-rendered in
// [data-countdown]); at zero the answer as it stands is sent. The server measures the real time
// taken from its own delivery clock; this is only the player's cue.
(() => {
  const start = () => {
    const el = document.querySelector("[data-countdown]");
    if (!el) return;
    let left = parseInt(el.dataset.countdown, 10);
    const out = el.querySelector("[data-countdown-left]");
    const tick = () => {
      if (out) out.textContent = String(left);
      if (left <= 0) {
        clearInterval(timer);
        const form = document.getElementById(el.dataset.countdownForm || "");
        if (form && document.body.contains(form)) form.requestSubmit();
        return;
      }
      left -= 1;
    };
    const timer = setInterval(tick, 1000);
    tick();
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
