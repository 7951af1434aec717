// Report exercise: live word count and a browser copy of the DRAFT text (never any answer).
// Loaded with `defer` under a strict CSP: no inline handlers, everything is wired here.
(() => {
  const PREFIX = "radgame:report-draft:";
  const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;

  const storage = (() => {
    try {
      const probe = `${PREFIX}probe`;
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (_err) {
      return null; // private mode or storage disabled: the server draft still saves everything
    }
  })();

  function readLocal(key) {
    if (!storage) return null;
    try {
      const value = JSON.parse(storage.getItem(PREFIX + key) || "null");
      return value && typeof value.text === "string" && typeof value.savedAt === "number" ? value : null;
    } catch (_err) {
      return null;
    }
  }

  function writeLocal(key, text) {
    if (!storage) return;
    try {
      storage.setItem(PREFIX + key, JSON.stringify({ text, savedAt: Date.now() }));
    } catch (_err) {
      // quota exceeded: the server copy is the one that matters
    }
  }

  function updateCounts(editor) {
    const text = editor.value;
    const words = (text.match(WORD) || []).length;
    const max = Number(editor.dataset.maxChars) || 0;
    const wordEl = document.getElementById("word-count");
    const charEl = document.getElementById("char-count");
    if (wordEl) wordEl.textContent = `${words} word${words === 1 ? "" : "s"}`;
    if (charEl) {
      charEl.textContent = `${text.length} / ${max} characters`;
      charEl.classList.toggle("over-limit", max > 0 && text.length > max);
    }
  }

  function wire(editor) {
    if (editor.dataset.reportWired) return;
    editor.dataset.reportWired = "1";
    const key = editor.dataset.draftKey;
    // The server draft is the truth; a newer browser copy (typed while offline) wins over it.
    const local = key ? readLocal(key) : null;
    const serverSavedMs = (Number(editor.dataset.serverSaved) || 0) * 1000;
    if (local && local.text && local.text !== editor.value && local.savedAt > serverSavedMs) {
      editor.value = local.text;
      const note = document.getElementById("draft-restored");
      if (note) note.hidden = false;
      // Save it to the server too, once htmx has wired the editor's autosave (after its own
      // DOMContentLoaded handler, which may run after this one).
      const save = () => window.htmx && window.htmx.trigger(editor, "blur");
      if (document.readyState === "complete") save();
      else window.addEventListener("load", save, { once: true });
    }
    updateCounts(editor);
    editor.addEventListener("input", () => {
      updateCounts(editor);
      if (key) writeLocal(key, editor.value);
    });
  }

  function clearSubmitted(root) {
    // A result region names the draft it replaced: that text is now the submitted attempt.
    if (!storage) return;
    root.querySelectorAll("[data-clear-draft]").forEach((el) => {
      storage.removeItem(PREFIX + el.dataset.clearDraft);
    });
  }

  function scan(root) {
    root.querySelectorAll("textarea[data-report-editor]").forEach(wire);
    clearSubmitted(root);
  }

  // A failed autosave must say so: htmx swaps nothing on an error, which looked like a save.
  function showDraftFailure(event, reason) {
    const elt = event.detail && event.detail.elt;
    if (!elt || !elt.matches || !elt.matches("textarea[data-report-editor]")) return;
    const status = document.getElementById("draft-status");
    if (!status) return;
    const kept = storage ? " Your text is kept in this browser." : "";
    const error = document.createElement("span");
    error.className = "field-error";
    error.textContent = `Draft not saved: ${reason}${kept}`;
    status.replaceChildren(error);
  }

  // A failed submit must say so too, and that nothing was lost: the text stays in the editor.
  function showSubmitFailure(event, reason) {
    const elt = event.detail && event.detail.elt;
    if (!elt || elt.id !== "report-form") return;
    const status = document.getElementById("submit-status");
    if (!status) return;
    status.textContent = `Not submitted: ${reason} Your text is still here; try again in a moment.`;
    status.hidden = false;
  }

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    const type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    let reason = `the server answered ${xhr.status}.`;
    if (xhr.status === 413) {
      // The server's own sentence says how much it accepts; plain text only, shown as text.
      const said = type.startsWith("text/plain") ? xhr.responseText.trim().slice(0, 200) : "";
      reason = `the text is too large to send. ${said}`.trim();
    }
    showDraftFailure(event, reason);
    showSubmitFailure(event, reason);
  });
  document.addEventListener("htmx:sendError", (event) => {
    showDraftFailure(event, "no connection to the server.");
    showSubmitFailure(event, "no connection to the server.");
  });

  document.addEventListener("DOMContentLoaded", () => scan(document));
  document.addEventListener("htmx:load", (event) => {
    const el = event.detail && event.detail.elt;
    if (el && el.querySelectorAll) {
      scan(el.parentElement || el);
    }
  });
})();
