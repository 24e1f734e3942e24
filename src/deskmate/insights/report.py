"""The product-team report: one self-contained HTML file (plotly.js inlined) that opens offline.

plotly.min.js ships inside the `plotly` Python package (package_data), so the report needs no
network when it is written or opened; the charts are the dashboard's own figure specs.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from deskmate.db import utcnow
from deskmate.insights.alerts import alert_payload
from deskmate.insights.dashboard import chart_figures, overview

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"


def plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    # JSON inside <script>: marked safe (HTML-escaping would break it), with "</" defused instead.
    env.filters["tojson_safe"] = lambda v: Markup(json.dumps(v, default=str).replace("</", "<\\/"))
    return env


def render_report(session: Session, tenant_id: int, *, since: datetime | None = None, until: datetime | None = None,
                  title: str = "Support insights", base_url: str = "") -> str:
    """`base_url` (the Deskmate server, e.g. https://desk.example.com) turns conversation numbers into links."""
    data = overview(session, tenant_id, since=since, until=until)
    base_url = base_url.rstrip("/")
    return _environment().get_template("insights/report.html").render(
        title=title, data=data, figures=chart_figures(data), alerts=[alert_payload(a, base_url) for a in data["alerts"]],
        generated=utcnow(), base_url=base_url, plotly_js=plotly_js().replace("</script", "<\\/script"))


def write_report(session: Session, tenant_id: int, out: Path, *, since: datetime | None = None, base_url: str = "") -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(session, tenant_id, since=since, base_url=base_url), encoding="utf-8")
    return out
