"""A case as PDF at the viewer's tier (fpdf2), with a Chinese font found on this machine: the file
``CASEBOOK_PDF_FONT`` names, else a CJK font of the system (Noto Sans CJK, WenQuanYi, …, or what fontconfig
answers for Chinese). Nothing is downloaded at run time; without such a font the export is refused, saying how
to install one. Same content as the Markdown export (``library.export.shown_case``), recorded as a download."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

from access.accounts import record_download
from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.i18n import gettext
from casebook.core.users import Actor
from library.export import Shown, locale_of, shown_case
from redaction.views import rendered_view

#: Where distributions put a CJK font (first found wins; the Regular weight of a collection).
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",        # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",             # Arch, Alpine
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",      # Fedora, RHEL
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",                # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",                            # macOS
    "C:/Windows/Fonts/msyh.ttc",                                     # Windows
)


class NoCJKFont(CasebookError):
    """No font that can show Chinese is installed: a PDF would print empty boxes, so none is made."""

    exit_code = 7
    http_status = 503


def _fontconfig() -> str | None:
    """What fontconfig answers for Chinese, when ``fc-match`` is installed (no network, a local lookup)."""
    tool = shutil.which("fc-match")
    if tool is None:
        return None
    try:
        found = subprocess.run([tool, "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=10,
                               check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found if found.lower().endswith((".ttc", ".ttf", ".otf")) and Path(found).is_file() else None


@lru_cache(maxsize=4)
def find_font(configured: str | None) -> str | None:
    """The CJK font file to embed: the configured one, a known system path, or fontconfig's answer."""
    if configured:
        return configured if Path(configured).is_file() else None
    for path in SYSTEM_FONTS:
        if Path(path).is_file():
            return path
    return _fontconfig()


@lru_cache(maxsize=8)
def face_index(path: str, locale: str) -> int:
    """The face of a font collection for the reader's script: Traditional (TC) or Simplified (SC) Chinese."""
    if not path.lower().endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    want = " TC" if locale == "zh-Hant" else " SC"
    with TTCollection(path, lazy=True) as collection:
        for i, font in enumerate(collection.fonts):
            name = font["name"].getDebugName(1) or ""
            if name.endswith(want) and "Mono" not in name:
                return i
    return 0


def _font(ctx: AppContext, locale: str) -> tuple[str, int]:
    path = find_font(os.environ.get("CASEBOOK_PDF_FONT") or None)
    if path is None:
        raise NoCJKFont(gettext("export.no_font", "en"))
    return path, face_index(path, locale)


class _Document(FPDF):
    """A4 pages whose footer names the case, its version and the page."""

    def __init__(self, mark: str, locale: str) -> None:
        super().__init__(format="A4")
        self.mark, self.locale = mark, locale

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.cell(0, 6, f"{self.mark} · {gettext('export.page', self.locale, page=self.page_no())}", align="C")


def pdf_of(shown: Shown, font: tuple[str, int], locale: str, *, author: str, created: object) -> bytes:
    """The PDF document's bytes: title, facts as label/value lines, then each section."""
    path, index = font
    pdf = _Document(f"{shown.key} v{shown.version}", locale)
    pdf.set_title(shown.title)
    pdf.set_author(author)
    pdf.set_creator("Casebook")
    pdf.set_lang("zh-TW" if locale == "zh-Hant" else "zh-CN" if locale == "zh-Hans" else "en")
    pdf.set_creation_date(created)  # type: ignore[arg-type]
    pdf.add_font("cjk", "", path, collection_font_number=index)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, shown.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=10)
    for name, value in shown.facts:
        pdf.multi_cell(0, 6, f"{name}: {value}", new_x="LMARGIN", new_y="NEXT")
    for name, text in shown.sections:
        pdf.ln(4)
        pdf.set_font("cjk", size=13)
        pdf.multi_cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10.5)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def export_pdf(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None, via: str = "api",
               locale: str | None = None) -> bytes:
    """The case as PDF at the viewer's tier (counted as a download); refused when no Chinese font is installed."""
    locale = locale_of(ctx, actor, locale)
    font = _font(ctx, locale)
    view, audience = rendered_view(ctx, actor, key)
    body = pdf_of(shown_case(ctx, view, audience, locale), font, locale, author=actor.username,
                  created=ctx.clock.now())
    record_download(ctx, actor, key, len(body), ip, version=view.version_no, via=via)
    return body
