"""`deskmate demo`: build the Loomhouse demo workspace, prepare it (`deskmate.prepare`) and serve it."""

from __future__ import annotations

import threading

import typer

# Defined here rather than imported from deskmate.cli, which imports this module while it loads.
TENANT = typer.Option("default", "--tenant", "-t", envvar="DESKMATE_TENANT", help="Workspace (tenant) slug.")


def _print_build(console, build, url: str) -> None:
    from rich.table import Table

    s = build.imported
    table = Table(title=f"demo workspace {build.tenant!r} (seed {build.data.seed}, "
                        f"{build.data.reference.date().isoformat()})", show_header=False)
    table.add_row("conversations imported", f"{s.created} created, {s.updated} updated, {s.unchanged} unchanged, "
                                            f"{s.rejected} rejected")
    table.add_row("held out as live", str(len(build.data.live)))
    table.add_row("knowledge", ", ".join(f"{v} {k}" for k, v in build.knowledge.items() if v))
    table.add_row("held-back articles", ", ".join(a.id for a in build.data.held_back) or "none")
    if build.removed_conversations:
        table.add_row("removed (not in this build)", str(build.removed_conversations))
    table.add_row("time", ", ".join(f"{k} {v:.1f}s" for k, v in build.seconds.items()))
    table.add_row("files", str(build.paths["truth"].parent))
    console.print(table)
    admin = next(u for u in build.users if u["role"] == "admin")
    agent = next(u for u in build.users if u["role"] == "agent")
    console.print(f"admin token ({admin['name']}):  {admin['token']}", highlight=False, soft_wrap=True)
    console.print(f"agent token ({agent['name']}):  {agent['token']}", highlight=False, soft_wrap=True)
    console.print(f"all demo tokens: {build.paths['tokens']}", highlight=False)
    console.print(f"sign in at {url}/login with a token; API docs at {url}/docs", highlight=False)


def demo(
    seed: int = typer.Option(7, help="Seed of the generated organisation; the same seed gives the same workspace."),
    conversations: int = typer.Option(2400, min=50, help="Conversations to generate (the last ~5% are held out as live)."),
    tenant: str = TENANT,
    no_serve: bool = typer.Option(False, "--no-serve", help="Build (and prepare) the workspace, then exit."),
    port: int = typer.Option(8000, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to serve on."),
    holdback: int = typer.Option(4, min=0, help="Knowledge articles held back, for knowledge-gap detection to find."),
    skip_rate: float = typer.Option(0.08, min=0.0, max=0.5, help="Share of conversations that break the procedure."),
    consequences: bool = typer.Option(False, "--consequences", help="Agents' moves change outcomes: a broken procedure, "
                                      "no empathy for an upset customer, or the common habit of skipping record-reason "
                                      "makes a resolution less likely."),
    reference_date: str | None = typer.Option(
        None, "--reference-date", help="Last day of the 90-day history (YYYY-MM-DD); default today."),
    no_prepare: bool = typer.Option(False, "--no-prepare", help="Skip model training, indexes and scoring."),
    prepare_first: bool = typer.Option(
        False, "--prepare-first", help="Finish preparing before serving (default: prepare while serving)."),
    live: bool = typer.Option(False, "--live", help="Replay the held-out conversations into the queue while serving."),
    pace: float = typer.Option(3.0, min=0.05, help="With --live: seconds between two messages of a conversation."),
    concurrent: int = typer.Option(3, min=1, max=50, help="With --live: conversations replayed at once."),
):
    """Build a complete demo workspace (an online retailer's support history) and serve it."""
    from deskmate.cli import console, serve
    from deskmate.config import get_settings
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.demo.build import build_demo
    from deskmate.prepare import prepare_workspace_all, print_report

    settings = get_settings()
    engine = make_engine(settings.database_url)
    build = build_demo(settings, seed=seed, conversations=conversations, tenant=tenant, holdback=holdback,
                       reference_date=reference_date, skip_rate=skip_rate, consequences=consequences, console=console,
                       engine=engine)
    factory = make_sessionmaker(engine)
    _print_build(console, build, f"http://{host}:{port}")

    def prepare_now() -> None:
        print_report(console, prepare_workspace_all(settings, factory, build.tenant_id, console=console))

    if not no_prepare and (no_serve or prepare_first):
        prepare_now()
    elif not no_prepare:
        # Serve at once and prepare beside it: training and indexing can take minutes on a small machine,
        # while the workspace's data is browsable already; suggestions sharpen when preparation ends.
        console.print("preparing the workspace in the background; the server is starting now")
        threading.Thread(target=prepare_now, name="deskmate-prepare", daemon=True).start()
    if live and not no_serve:
        from deskmate.demo.live import LiveReplayer

        admin = next(u for u in build.users if u["role"] == "admin")
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        LiveReplayer(f"http://{local}:{port}", admin["token"], build.data.live, pace=pace,
                     concurrent=concurrent).start_in_background()
        console.print(f"replaying {len(build.data.live)} held-out conversations into the queue "
                      f"({concurrent} at a time, a message every {pace:g}s each)")
    if not no_serve:
        serve(host=host, port=port, workers=1)
    engine.dispose()


commands = [demo]
