"""What the feed and sitemap writers share: XML-safe text, RFC 3339 timestamps, serialisation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """User text without the control characters XML 1.0 cannot carry (ElementTree escapes the rest)."""
    return XML_INVALID.sub("", text)


def rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = clean(text)
    return element


def to_bytes(root: ET.Element, namespace: str) -> bytes:
    """The document with ``namespace`` as its default namespace (elements are built with unqualified tags)."""
    root.set("xmlns", namespace)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")
