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
    const box = root.getBoundingClientRect();
    if (!caret) {
      caret = document.createElement("span");
      caret.id = "caret";
      caret.setAttribute("aria-hidden", "true");
      document.body.appendChild(caret);
    }
    caret.style.left = rect.left + window.scrollX + "px";
    caret.style.top = rect.top + window.scrollY + "px";
    caret.style.height = (rect.height || 20) + "px";
    if (rect.top < box.top || rect.bottom > window.innerHeight) {
      caret.scrollIntoView({ block: "nearest" });
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

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".code-button");
    if (button) {
      submitSpan(button.dataset.code);
      return;
    }
    const hl = event.target.closest("#doc-text .hl");
    if (hl) {
      const sel = selectionOffsets();
      if (sel && sel.collapsed) inspectAt(sel.start);
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
    if (!root || isTyping(event.target)) return;
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

  // After htmx replaces the workspace: keep keyboard focus in the text and show the
  // span the coder is working on.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "workspace") return;
    const selected = document.querySelector("#doc-text .hl.selected");
    if (selected) selected.scrollIntoView({ block: "nearest" });
    state.anchor = null;
    if (state.refocus) {
      state.refocus = false;
      const root = container();
      if (root) root.focus({ preventScroll: true });
    }
    drawCaret();
  });

  // Exposed for the browser tests, which check the conversion on awkward text.
  window.framingOffsets = { toCodePoints: toCodePoints, toUtf16: toUtf16, selectionOffsets: selectionOffsets };
})();
