// Case editor behaviour. Loaded with `defer` under the strict CSP (no inline script).
// Ticking "normal study" while boxes or ticked findings exist would fail on save: say so at once.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.name !== "is_normal" || !box.checked) return;
  const form = box.form;
  const marks = form && form.querySelector("#marks-input");
  let count = 0;
  try {
    count = JSON.parse((marks && marks.value) || "{}").boxes?.length || 0;
  } catch (_err) {
    count = 0;
  }
  count += form ? form.querySelectorAll("input[name=selected]:checked").length : 0;
  if (count > 0) {
    window.alert("A normal study has no findings: delete the boxes and untick the findings first.");
    box.checked = false;
  }
});

// Boxes live only in the page until Save: leaving with unsaved changes asks first, and a note by
// the Save button says there are some. The baseline is the form as loaded, taken again once the
// viewer has written its boxes into the form (it rewrites them in its own format).
(() => {
  const form = document.getElementById("case-form");
  if (!form) return;
  const note = document.getElementById("case-unsaved");
  const snapshot = () => new URLSearchParams(new FormData(form)).toString();
  let saved = snapshot();
  let submitting = false;
  // A save the server refused comes back holding the unsaved edits.
  const refused = form.hasAttribute("data-unsaved");
  const dirty = () => !submitting && (refused || snapshot() !== saved);
  const show = () => {
    if (note) note.textContent = dirty() ? "Unsaved changes: Save keeps them." : "";
  };
  document.addEventListener("cxr-ready", () => {
    saved = snapshot();
    show();
  });
  document.addEventListener("cxr-marks-change", show);
  form.addEventListener("input", show);
  form.addEventListener("change", show);
  form.addEventListener("submit", () => {
    submitting = true;
  });
  window.addEventListener("beforeunload", (event) => {
    if (!dirty()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need a value to show their prompt
  });
})();
