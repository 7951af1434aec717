// Site-wide behaviour that needs no framework. Loaded with `defer`, under a strict CSP (no inline JS).
// The websocket extension retries a dropped socket after a full-jitter delay that doubles up to 64 s,
// so after a web restart a page could wait a minute to hear of a result. Cap the delay at 1 s
// (still full jitter, so a restart's reconnects spread over that second): reliability row R10.
if (window.htmx) {
  window.htmx.config.wsReconnectDelay = (retryCount) =>
    Math.random() * Math.min(1000, 250 * 2 ** retryCount);
}
// Live regions: after a websocket (re)connect, ask every live region to refresh itself from the server,
// because the channel layer is best-effort and a push sent while we were offline is gone.
document.addEventListener("htmx:wsOpen", () => {
  document.querySelectorAll("[data-refresh-on-reconnect]").forEach((el) => {
    if (window.htmx) window.htmx.trigger(el, "refresh");
  });
});
// Buttons marked data-confirm ask before submitting (replaces hx-confirm's inline prompt).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// A form marked data-swap-errors shows the server's 4xx answer (its reason, rendered as HTML by
// the server) where the response says, instead of htmx's default of swapping nothing.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (status >= 400 && status < 500 && elt && elt.closest && elt.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// Job pushes arrive as JSON {"type": "job", "job": id, "status": s}: refresh the regions that show
// that job and keep the websocket extension from trying to swap the JSON in as HTML.
document.addEventListener("htmx:wsBeforeMessage", (event) => {
  let data;
  try {
    data = JSON.parse(event.detail.message);
  } catch (_err) {
    return;
  }
  event.preventDefault();
  if (!data || data.type !== "job" || !window.htmx) return;
  document.querySelectorAll("[data-job]").forEach((el) => {
    if (el.dataset.job === String(data.job)) window.htmx.trigger(el, "refresh");
  });
});
