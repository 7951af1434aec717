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

  // "Normal study" means there is nothing to find, so it cannot go with boxes or ticks. The
  // server refuses that answer; saying so as soon as it happens spares a round trip. The words
  // come from the server (the form's data-normal-conflict), so both say the same thing.
  const form = () => document.getElementById("localize-form");

  function normalConflict(f) {
    const normal = f.querySelector("input[data-normal]");
    if (!normal || !normal.checked) return false;
    const ticks = f.querySelectorAll("input[name=selected]:checked:not([data-normal])").length;
    let boxes = 0;
    try {
      boxes = (JSON.parse(f.querySelector("#marks-input").value || "{}").boxes || []).length;
    } catch (_err) {
      boxes = 0;
    }
    return ticks + boxes > 0;
  }

  function showConflict(f) {
    const region = document.getElementById("localize-errors");
    if (!region) return;
    const text = f.dataset.normalConflict || "";
    const shown = region.querySelector("[data-normal-conflict]");
    if (normalConflict(f)) {
      if (shown) return;
      region.replaceChildren();
      const p = document.createElement("p");
      p.className = "form-errors";
      p.dataset.normalConflict = "";
      p.textContent = text;
      region.append(p);
    } else if (shown) {
      shown.remove();
    }
  }

  document.addEventListener("change", (event) => {
    const f = form();
    if (f && event.target instanceof HTMLInputElement && event.target.form === f) showConflict(f);
  });
  document.addEventListener("cxr-marks-change", () => {
    const f = form();
    if (f) showConflict(f);
  });
  // Capture phase: runs before htmx's own submit handler on the form, so nothing is sent.
  document.addEventListener(
    "submit",
    (event) => {
      const f = form();
      if (event.target !== f || !normalConflict(f)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      showConflict(f);
    },
    true,
  );

  // "N" on the image (the viewer's next-case shortcut) follows the page's next-case link.
  const nextCase = () => {
    const next = document.querySelector("a[data-next-case]");
    if (next) window.location.assign(next.href);
    return Boolean(next);
  };
  document.addEventListener("cxr-next-case", nextCase);

  // Keyboard only, from anywhere on the page: Ctrl+Enter (Cmd+Enter) submits the answer, and
  // "N" on a result goes to the next case unless the focus is in a text field. Keys the viewer
  // handled (its own "N") arrive here already prevented.
  const KEYLESS_INPUTS = ["checkbox", "radio", "button", "submit", "reset"];
  const typing = (target) =>
    target instanceof HTMLElement &&
    (target.isContentEditable ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement ||
      (target instanceof HTMLInputElement && !KEYLESS_INPUTS.includes(target.type)));
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.isComposing) return;
    const f = form();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && f) {
      event.preventDefault();
      f.requestSubmit();
    } else if (
      (event.key === "n" || event.key === "N") &&
      !event.ctrlKey &&
      !event.metaKey &&
      !typing(event.target) &&
      nextCase()
    ) {
      event.preventDefault();
    }
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
