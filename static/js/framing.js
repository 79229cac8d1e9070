// Framing's coding screen: turn a selection (mouse or keyboard) into code-point offsets.
//
// Browsers count string positions in UTF-16 code units; the server (Python) counts code
// points. Every offset sent to the server is converted here, and the server re-checks it
// against the quote, so an emoji or a Khmer cluster can never shift a span.
(function () {
  "use strict";

  const state = { caret: null, anchor: null, refocus: false };

  function container() {
    return document.getElementById("doc-text");
  }

  // Code points before a UTF-16 index of text.
  function toCodePoints(text, utf16) {
    let count = 0;
    for (let i = 0; i < utf16; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < utf16) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      count++;
    }
    return count;
  }

  // UTF-16 index of a code-point offset.
  function toUtf16(text, codePoints) {
    let i = 0;
    for (let n = 0; n < codePoints && i < text.length; n++) {
      const c = text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    }
    return i;
  }

  // UTF-16 offset of a DOM position inside the container (a Range from its start).
  function utf16Offset(root, node, offset) {
    const range = document.createRange();
    range.setStart(root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  // The DOM position (text node, offset) of a UTF-16 offset inside the container.
  function domPosition(root, utf16) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let seen = 0;
    let node = walker.nextNode();
    let last = null;
    while (node) {
      const len = node.data.length;
      if (utf16 <= seen + len) return { node: node, offset: utf16 - seen };
      seen += len;
      last = node;
      node = walker.nextNode();
    }
    return last ? { node: last, offset: last.data.length } : { node: root, offset: 0 };
  }

  // The current selection inside the text as code-point offsets, or null.
  function selectionOffsets() {
    const root = container();
    const sel = window.getSelection();
    if (!root || !sel || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return null;
    const text = root.textContent;
    const a = utf16Offset(root, range.startContainer, range.startOffset);
    const b = utf16Offset(root, range.endContainer, range.endOffset);
    return {
      start: toCodePoints(text, a),
      end: toCodePoints(text, b),
      quote: text.slice(a, b),
      collapsed: a === b,
    };
  }

  function selectCodePoints(anchor, caret) {
    const root = container();
    const text = root.textContent;
    const a = domPosition(root, toUtf16(text, anchor));
    const c = domPosition(root, toUtf16(text, caret));
    window.getSelection().setBaseAndExtent(a.node, a.offset, c.node, c.offset);
    drawCaret();
  }

  function drawCaret() {
    const root = container();
    let caret = document.getElementById("caret");
    if (!root || state.caret === null || document.activeElement !== root) {
      if (caret) caret.remove();
      return;
    }
    const text = root.textContent;
    const pos = domPosition(root, toUtf16(text, state.caret));
    const range = document.createRange();
    range.setStart(pos.node, pos.offset);
    range.collapse(true);
    const rect = range.getClientRects()[0] || range.getBoundingClientRect();
    if (!caret) {
      caret = document.createElement("span");
      caret.id = "caret";
      caret.setAttribute("aria-hidden", "true");
      document.body.appendChild(caret);
    }
    caret.style.left = rect.left + window.scrollX + "px";
    caret.style.top = rect.top + window.scrollY + "px";
    caret.style.height = (rect.height || 20) + "px";
    // Keep the caret on screen as the keyboard moves it (the viewport, not the container).
    if (rect.top < 0 || rect.bottom > window.innerHeight) {
      caret.scrollIntoView({ block: "center" });
    }
  }

  function isWordChar(ch) {
    return /[\p{L}\p{N}\p{M}]/u.test(ch);
  }

  // Next word boundary in code points, like the server's word_step.
  function wordStep(chars, pos, dir) {
    let i = pos;
    if (dir > 0) {
      while (i < chars.length && !isWordChar(chars[i])) i++;
      while (i < chars.length && isWordChar(chars[i])) i++;
    } else {
      while (i > 0 && !isWordChar(chars[i - 1])) i--;
      while (i > 0 && isWordChar(chars[i - 1])) i--;
    }
    return i;
  }

  function lineStep(chars, pos, dir) {
    let i = pos;
    if (dir > 0) {
      while (i < chars.length && chars[i] !== "\n") i++;
      return Math.min(chars.length, i + 1);
    }
    i = Math.max(0, i - 1);
    while (i > 0 && chars[i - 1] !== "\n") i--;
    return i;
  }

  function submitSpan(codeId) {
    const sel = selectionOffsets();
    const form = document.getElementById("span-form");
    if (!form) return;
    if (!sel || sel.collapsed) {
      showError("Select some text first, then choose a code.");
      return;
    }
    form.elements.start.value = sel.start;
    form.elements.end.value = sel.end;
    form.elements.quote.value = sel.quote;
    form.elements.code.value = codeId;
    state.refocus = document.activeElement === container();
    window.getSelection().removeAllRanges();
    state.anchor = null;
    form.requestSubmit();
  }

  function showError(message) {
    const box = document.querySelector("#workspace .feedback");
    if (!box) return;
    box.replaceChildren();
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.id = "error";
    p.textContent = message;
    box.appendChild(p);
  }

  function codeForKey(key) {
    return document.querySelector('.code-button[data-shortcut="' + CSS.escape(key) + '"]');
  }

  function inspectAt(offset) {
    const ws = document.getElementById("workspace");
    if (!ws) return;
    htmx.ajax("GET", ws.dataset.inspectUrl + "?at=" + offset, {
      source: ws,
      target: "#workspace",
      swap: "outerHTML",
    });
  }

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // A code button must not take the selection or the focus away from the text.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest(".code-button")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".code-button");
    if (button) {
      submitSpan(button.dataset.code);
      return;
    }
    const hl = event.target.closest("#doc-text .hl");
    if (hl) {
      const sel = selectionOffsets();
      if (sel && !sel.collapsed) return; // the end of a drag, not a click
      // The innermost highlight is one piece of text: every span stacked on it covers its
      // first character, wherever inside it the click landed.
      const root = container();
      inspectAt(toCodePoints(root.textContent, utf16Offset(root, hl, 0)));
    }
  });

  // Keep the keyboard caret where the mouse put it, so both ways of selecting mix.
  document.addEventListener("selectionchange", function () {
    const root = container();
    if (!root || document.activeElement !== root) return;
    const sel = selectionOffsets();
    if (sel && sel.collapsed && state.anchor === null) state.caret = sel.start;
  });

  document.addEventListener("keydown", function (event) {
    const root = container();
    if (!root) return;
    if (event.key === "Escape" && event.target !== root && event.target.closest("#workspace")) {
      // Back from the inspector or the span list to the text, caret where it was.
      root.focus();
      return;
    }
    if (isTyping(event.target)) return;
    if (event.altKey || event.metaKey) return;
    const codeButton = !event.ctrlKey && event.key.length === 1 ? codeForKey(event.key) : null;
    if (codeButton) {
      event.preventDefault();
      submitSpan(codeButton.dataset.code);
      return;
    }
    if (event.target !== root) return;
    const chars = Array.from(root.textContent);
    if (state.caret === null) {
      const sel = selectionOffsets();
      state.caret = sel ? sel.end : 0;
    }
    let next = null;
    switch (event.key) {
      case "ArrowRight":
        next = event.ctrlKey ? wordStep(chars, state.caret, 1) : Math.min(chars.length, state.caret + 1);
        break;
      case "ArrowLeft":
        next = event.ctrlKey ? wordStep(chars, state.caret, -1) : Math.max(0, state.caret - 1);
        break;
      case "ArrowDown":
        next = lineStep(chars, state.caret, 1);
        break;
      case "ArrowUp":
        next = lineStep(chars, state.caret, -1);
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = chars.length;
        break;
      case "Enter": {
        event.preventDefault();
        inspectAt(state.caret);
        return;
      }
      case "Escape":
        state.anchor = null;
        window.getSelection().removeAllRanges();
        drawCaret();
        return;
      default:
        return;
    }
    event.preventDefault();
    if (event.shiftKey) {
      if (state.anchor === null) state.anchor = state.caret;
    } else {
      state.anchor = null;
    }
    state.caret = next;
    selectCodePoints(state.anchor === null ? next : state.anchor, next);
  });

  document.addEventListener("focusin", drawCaret);
  document.addEventListener("focusout", function () {
    window.setTimeout(drawCaret, 0);
  });

  const FOCUSABLE = "button, select, textarea, input:not([type=hidden]), a[href], [tabindex]";

  // Where keyboard focus was inside the workspace, described so that it survives the swap:
  // the text itself, or the n-th control of one span's block (inspector or list).
  function describeFocus() {
    const el = document.activeElement;
    const ws = document.getElementById("workspace");
    if (!el || !ws || !ws.contains(el)) return null;
    if (el.id === "doc-text") return { text: true };
    const block = el.closest(".inspected, .span-entry");
    if (!block) return { other: true };
    return {
      span: block.dataset.span,
      entry: block.classList.contains("span-entry"),
      index: Array.from(block.querySelectorAll(FOCUSABLE)).indexOf(el),
    };
  }

  function restoreFocus(before) {
    const root = container();
    if (!before) return;
    if (before.text) {
      root.focus({ preventScroll: true });
      return;
    }
    const inspected = before.span
      ? document.querySelector('#inspector .inspected[data-span="' + CSS.escape(before.span) + '"]')
      : null;
    let target = null;
    if (inspected && !before.entry) {
      target = inspected.querySelectorAll(FOCUSABLE)[before.index] || null;
    } else if (inspected) {
      // A span-list entry opens its span in the inspector: go there to edit it.
      target = inspected.querySelector(FOCUSABLE);
    }
    target =
      target ||
      document.getElementById("undo") ||
      document.querySelector("#inspector select") ||
      root;
    // The text and Undo are already on screen; an inspector control may need scrolling to.
    target.focus({ preventScroll: target === root || target.id === "undo" });
  }

  let focusBefore = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "workspace") {
      focusBefore = state.refocus ? { text: true } : describeFocus();
      state.refocus = false;
    }
  });

  function isWorkspaceSwap(event) {
    return event.detail.target && event.detail.target.id === "workspace";
  }

  // After htmx replaces the workspace: put keyboard focus back where the coder was (or on
  // Undo after a delete) and show the span the coder is working on. Focus returns to the
  // text at once, so no keystroke typed straight after a tag is lost; a control gets it
  // only on settle, because htmx binds hx-post on new controls then, and an Enter on a
  // focused but unbound Undo button would do nothing.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isWorkspaceSwap(event)) return;
    const selected = document.querySelector("#doc-text .hl.selected");
    if (selected) selected.scrollIntoView({ block: "nearest" });
    state.anchor = null;
    if (focusBefore && focusBefore.text) {
      restoreFocus(focusBefore);
      focusBefore = null;
    }
    drawCaret();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!isWorkspaceSwap(event) || !focusBefore) return;
    restoreFocus(focusBefore);
    focusBefore = null;
    drawCaret();
  });

  // Exposed for the browser tests, which check the conversion on awkward text.
  window.framingOffsets = { toCodePoints: toCodePoints, toUtf16: toUtf16, selectionOffsets: selectionOffsets };
})();
