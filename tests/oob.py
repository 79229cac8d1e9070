"""A small model of how htmx 2 applies out-of-band swaps, for tests without a browser.

Parses HTML into a tree (stdlib ``html.parser``), applies an answer's ``hx-swap-oob``
elements to a page the way htmx 2.0 does (``true`` replaces the element with the same
id; ``delete``; ``innerHTML``; ``afterend:``, ``beforebegin:``, ``beforeend:`` insert the
element's children), and serialises back with the escaping the coding page uses, so a
patched page can be compared with a fresh drawing string for string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

VOID = frozenset({"input", "br", "img", "meta", "link", "hr"})


@dataclass
class Element:
    tag: str
    attrs: list[tuple[str, str | None]]
    children: list = field(default_factory=list)  # Element or str
    parent: Element | None = None

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)

    def without(self, name: str) -> Element:
        self.attrs = [(k, v) for k, v in self.attrs if k != name]
        return self


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def serialise(node) -> str:
    if isinstance(node, str):
        return escape(node)
    attrs = "".join(f" {k}" if v is None else f' {k}="{escape(v)}"' for k, v in node.attrs)
    inner = "".join(serialise(child) for child in node.children)
    if node.tag == "#root":
        return inner
    if node.tag in VOID:
        return f"<{node.tag}{attrs}>"
    return f"<{node.tag}{attrs}>{inner}</{node.tag}>"


def inner(node: Element) -> str:
    return "".join(serialise(child) for child in node.children)


def find_all(node: Element, element_id: str) -> list[Element]:
    found = []
    for child in node.children:
        if isinstance(child, Element):
            if child.get("id") == element_id:
                found.append(child)
            found.extend(find_all(child, element_id))
    return found


def by_id(node: Element, element_id: str) -> Element:
    found = find_all(node, element_id)
    assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
    return found[0]


def _adopt(children: list, parent: Element) -> list:
    for child in children:
        if isinstance(child, Element):
            child.parent = parent
    return children


def apply(page: Element, answer: str) -> list[str]:
    """Apply the out-of-band elements of ``answer`` to ``page`` in document order, as htmx
    does (every element with that id is a target); returns the swaps applied."""
    done = []
    for element in _oob_elements(parse(answer)):
        how = element.get("hx-swap-oob")
        element.without("hx-swap-oob")
        if ":" in how:
            how, selector = how.split(":", 1)
        else:
            selector = "#" + element.get("id")
        assert selector.startswith("#")
        targets = find_all(page, selector[1:])
        assert targets, f"no target for {how} {selector}"
        for target in targets:
            siblings = target.parent.children
            at = siblings.index(target)
            if how in ("true", "outerHTML"):
                siblings[at : at + 1] = _adopt([element], target.parent)
            elif how == "delete":
                del siblings[at]
            elif how == "innerHTML":
                target.children = _adopt(list(element.children), target)
            elif how == "afterend":
                siblings[at + 1 : at + 1] = _adopt(list(element.children), target.parent)
            elif how == "beforebegin":
                siblings[at:at] = _adopt(list(element.children), target.parent)
            elif how == "beforeend":
                target.children.extend(_adopt(list(element.children), target))
            else:
                raise AssertionError(f"unknown swap {how}")
        done.append(f"{how}:{selector}")
    return done


def _oob_elements(node: Element) -> list[Element]:
    """Every element carrying ``hx-swap-oob``, outermost first (htmx 2 also takes nested
    ones; the coding page never nests them, which :func:`apply`'s callers check)."""
    found = []
    for child in node.children:
        if isinstance(child, Element):
            if child.get("hx-swap-oob") is not None:
                found.append(child)
                assert not _oob_elements(child), "an out-of-band element inside another"
            else:
                found.extend(_oob_elements(child))
    return found
