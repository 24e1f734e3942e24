"""The report of bench/learning_curve.py: docs/bench/learning.md and the curve's PNG (matplotlib)."""

from __future__ import annotations

import json
from pathlib import Path

FRACTIONS = (0.10, 0.25, 0.50, 1.00)
FIGURES = ("next_action_hit@1", "reply_recall@3", "knowledge_hit@3")


def learned_differences(stats, conversations, min_uses: int = 30) -> dict:
    """What outcome-aware ranking knows that click-only cannot: moves agents made often whose conversations
    rarely went well (reward per use under half the kind's average)."""
    from deskmate.assist.templating import to_template
    from deskmate.learning.keys import reply_key
    from deskmate.learning.stats import ACCEPTED, ANY, REWARD

    text_of = {}
    for c in conversations:
        for t in c.turns:
            if t.role == "agent" and t.kind == "text" and t.text.strip():
                template = to_template(t.text, c.customer, c.agent_name)
                text_of.setdefault(reply_key(template), template)
    out = {}
    for kind in ("nba", "reply", "kb"):
        cells = stats.cells.get(kind, {}).get(ANY, {})
        total = cells.get(ANY)
        if not total or not total[ACCEPTED]:
            continue
        average = total[REWARD] / total[ACCEPTED]
        poor = sorted(((c[REWARD] / c[ACCEPTED], int(c[ACCEPTED]), key) for key, c in cells.items()
                       if key != ANY and c[ACCEPTED] >= min_uses and c[REWARD] / c[ACCEPTED] < average / 2))
        out[kind] = {"average_reward_per_use": round(average, 3), "poor_moves": len(poor),
                     "examples": [{"move": text_of.get(k, k), "uses": n, "reward_per_use": round(r, 3)} for r, n, k in poor[:3]]}
    return out


def gap_report(settings, factory, tenant_id, held_back: list[dict], encoder) -> dict:
    from deskmate.accounts.models import Tenant
    from deskmate.db import session_scope
    from deskmate.learning.drafts import rouge_l
    from deskmate.learning.gaps import detect_gaps

    with session_scope(factory) as session:
        drafts = detect_gaps(session, tenant=session.get(Tenant, tenant_id), encoder=encoder, refresh=True)
        found = [{"topic": d.topic, "title": d.title, "body": d.body, "sources": len(d.sources),
                  "signals": {k: d.signals.get(k) for k in ("resolved", "unhelped_resolved", "kb_dismissed", "kb_absent")}}
                 for d in drafts]
    by_reason = {a["reason"]: a for a in held_back}
    for d in found:
        article = by_reason.get(d["topic"])
        if article is not None:
            v = encoder.encode([d["body"], article["body"]])
            d["held_back"] = article["external_id"]
            d["cosine"] = round(float(v[0] @ v[1]), 3)
            d["rouge_l"] = rouge_l(d["body"], article["body"])
    return {"held_back": [a["external_id"] for a in held_back], "drafts": found,
            "found": sorted(d["held_back"] for d in found if "held_back" in d),
            "false_gaps": sorted(d["topic"] for d in found if "held_back" not in d)}



def plot(curve: dict, retrained: dict, baseline: dict, path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no PNG drawn"
    fig, axes = plt.subplots(1, len(FIGURES), figsize=(11, 3.8), dpi=120)
    xs = [int(f * 100) for f in FRACTIONS]
    for ax, name, colour in zip(axes, FIGURES, ("#2563eb", "#16a34a", "#d97706")):
        ax.plot(xs, [curve[f][name] for f in FRACTIONS], marker="o", color=colour, label="online updates only")
        ax.plot(xs, [retrained[f][name] for f in FRACTIONS], marker="s", color=colour, linestyle="--",
                label="+ assist rebuilt from the same history")
        if baseline.get(name) is not None:
            ax.axhline(baseline[name], color="#6b7280", linestyle=":", linewidth=1, label="no learning")
        ax.set_title(name)
        ax.set_xlabel("history absorbed (%)")
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out last month")
    axes[0].legend(loc="center right", fontsize=7)
    fig.suptitle("Deskmate learning curve (demo workspace, seed 7)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return str(path)


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def report(r: dict, args, reference_date: str) -> None:
    lines = ["# Learning loop benchmark", "",
             f"Measured by `.venv/bin/python bench/learning_curve.py --conversations {args.conversations} --seed {args.seed}"
             f"{' --consequences' if args.consequences else ''}` "
             f"(demo workspace seed {r['seed']}, reference date {reference_date}; {r['seconds']:.0f} s on this machine).", "",
             f"History: {r['earlier']} conversations before the held-out last month ({r['held_out']} conversations). "
             f"Live assist's models were built once from the first {r['bootstrap']} (10%); from there the system learned "
             f"only through the learning loop's online updates (simulated agent feedback + outcomes joined on close). "
             f"{r['moments']} candidate lists recorded from the real AssistEngine.", "",
             "## Learning curve (held-out last month, outcome-aware ranking)", "",
             "| history absorbed | " + " | ".join(FIGURES) + " |", "|---|" + "---|" * len(FIGURES),
             "| none (assist alone) | " + " | ".join(_f(r["no_learning"].get(k)) for k in FIGURES) + " |"]
    for f, figs in r["curve"].items():
        lines.append(f"| {float(f):.0%} | " + " | ".join(_f(figs.get(k)) for k in FIGURES) + " |")
    n = r["no_learning"]
    lines += ["", f"Counts: {n.get('n_next_action_hit@1')} next-action moments, {n.get('n_reply_recall@3')} reply moments, "
                  f"{n.get('n_knowledge_hit@3')} knowledge moments.", "",
              "With assist's own models also rebuilt from the absorbed history (the nightly `deskmate prepare`), "
              "same ranker evidence:", "",
              "| history absorbed | " + " | ".join(FIGURES) + " |", "|---|" + "---|" * len(FIGURES)]
    for f, figs in r["curve_retrained"].items():
        lines.append(f"| {float(f):.0%} | " + " | ".join(_f(figs.get(k)) for k in FIGURES) + " |")
    lines += ["", f"![learning curve](../{args.png.name})", "",
              "## Simulated agent: outcome-aware vs click-only ranking (after 100% absorbed)", "",
              "| ranking | " + " | ".join(f"{k} (resolution-linked)" for k in FIGURES) + " | " + " | ".join(FIGURES) + " |",
              "|---|" + "---|" * (2 * len(FIGURES))]
    for name in ("none", "clicks", "outcome"):
        c = r["comparison"][name]
        label = {"none": "no learning", "clicks": "click-only", "outcome": "outcome-aware"}[name]
        lines.append(f"| {label} | " + " | ".join(_f(c["resolution_linked"].get(k)) for k in FIGURES) + " | "
                     + " | ".join(_f(c["all"].get(k)) for k in FIGURES) + " |")
    p = r["parity"]
    delta = {k: (r["comparison"]["outcome"]["resolution_linked"].get(k) or 0) - (r["comparison"]["clicks"]["resolution_linked"].get(k) or 0)
             for k in FIGURES}
    pairs = r["comparison"].get("discordant") or {}
    lines += ["", "Resolution-linked: only held-out conversations that resolved with the customer's sentiment rising. "
              "Outcome-aware minus click-only there: " + ", ".join(f"{k} {v:+.3f}" for k, v in delta.items()) + ". "
              + ("Held-out moments only outcome-aware got right / only click-only got right: "
                 + ", ".join(f"{k} {a} / {b}" for k, (a, b) in pairs.items()) + ". " if pairs else "")
              + ("With --consequences what agents do changes how conversations end (deskmate.demo.schedule."
                 "apply_consequences): a broken procedure or an upset customer left without empathy makes a resolution "
                 "less likely, and most agents have a habit of skipping the documentation step (record-reason), which "
                 "turns 70% of would-be resolutions into failures: a popular move that goes badly, the case where "
                 "following clicks misleads."
                 if args.consequences else
                 "In the default demo world a conversation's outcome is drawn from its agent's skill and the customer's "
                 "mood (deskmate.demo.schedule), not from which suggestion was used, so a replay of what agents did can "
                 "reward steering only through the few moves that mark a failing conversation; "
                 "`--consequences` runs the same in a world where moves change outcomes (learning_consequences.md)."), "",
              "what outcome-aware ranking learned that click-only cannot (moves used at least 30 times whose "
              "conversations earned under half the average reward per use):", ""]
    for kind, d in r["learned"].items():
        examples = "; ".join(f"{e['move'][:70]!r} ({e['uses']} uses, {e['reward_per_use']:.2f})" for e in d["examples"])
        lines.append(f"- {kind}: {d['poor_moves']} moves (average {d['average_reward_per_use']:.2f} per use)"
                     + (f", e.g. {examples}" if examples else ""))
    lines += ["",
              "## Product path", "",
              f"The outcome-aware run's {r['feedback_events']} feedback events were stored as assist feedback events and "
              f"joined by `join_history`: {p['rows_in_stream']} joined rows for the absorbed history vs {p['simulated_rows']} "
              f"in the simulation; identical stats: {p['identical_stats']}.", "",
              "## Knowledge gaps", "",
              f"Held back by the generator: {', '.join(r['gaps']['held_back'])}. Found: {len(r['gaps']['found'])} of "
              f"{len(r['gaps']['held_back'])}; other topics flagged: {', '.join(r['gaps']['false_gaps']) or 'none'}.", "",
              "| gap (reason) | held-back article | resolved without help | sources | cosine (MiniLM) | ROUGE-L F1 |",
              "|---|---|---|---|---|---|"]
    for d in r["gaps"]["drafts"]:
        s = d["signals"]
        lines.append(f"| {d['topic']} | {d.get('held_back', '–')} | {s['unhelped_resolved']} of {s['resolved']} | "
                     f"{d['sources']} | {_f(d.get('cosine'))} | {_f(d.get('rouge_l'))} |")
    job = r.get("retrain")
    if job:
        lines += ["", "## A ranker version through `deskmate learn retrain`", "",
                  "The batch job on the same workspace (its simulated feedback in the store): assist's replay harness "
                  "(holdout 0.2) with the version in use (default weights on a fresh workspace; with --cache, the version an "
                  "earlier run promoted) and with the candidate (weights chosen on the first half of the held-out "
                  "conversations), evidence from the earlier 80% only.", "",
                  "| measure | candidate | in use |", "|---|---|---|"]
        for name in ("next_action_hit@1", "next_action_hit@3", "reply_recall@3", "knowledge_hit@3"):
            lines.append(f"| {name} | {_f(job['scores'].get(name))} | {_f(job['baseline'].get(name))} |")
        lines += ["", f"Candidate weights {job['weights']}; {job['decision']}."]
    lines += ["", "Time: " + ", ".join(f"{k} {v:.0f} s" for k, v in r["timings"].items()) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    png = plot({float(f): v for f, v in r["curve"].items()}, {float(f): v for f, v in r["curve_retrained"].items()},
               r["no_learning"], args.png)
    print(f"curve drawn: {png}")
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=str))


