// Localize pages. Loaded with `defer` under a strict CSP: no inline script, no hx-on.
(() => {
  "use strict";

  // Tell the player how many boxes the form will send (the viewer writes them into #marks-input).
  document.addEventListener("cxr-marks-change", (event) => {
    const counter = document.getElementById("localize-marks-count");
    const boxes = (event.detail && event.detail.boxes) || [];
    if (!counter) return;
    if (!boxes.length) {
      counter.textContent = "No boxes drawn yet.";
      return;
    }
    const names = boxes.map((b) => b.label || "unlabelled").join(", ");
    counter.textContent = `${boxes.length} box${boxes.length === 1 ? "" : "es"}: ${names}.`;
  });

  // "N" on the image (the viewer's next-case shortcut) follows the page's next-case link.
  document.addEventListener("cxr-next-case", () => {
    const next = document.querySelector("a[data-next-case]");
    if (next) window.location.assign(next.href);
  });

  // After the result replaces the case, move focus to its heading so screen readers and
  // keyboard users start reading the feedback rather than stay on a removed button.
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail && event.detail.elt;
    if (target && target.id === "localize-result") {
      const title = document.getElementById("result-title");
      if (title) title.focus();
    }
  });
})();
