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
