"""`deskmate intents train | eval | predict`: intent models from any labelled CSV/JSONL, or from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

cli_name = "intents"
cli = typer.Typer(help="Train, evaluate and try intent (reason for contact) models.", no_args_is_help=True)

# Defined here rather than imported from deskmate.cli, which imports this module while it loads.
TENANT = typer.Option(None, "--tenant", "-t", envvar="DESKMATE_TENANT", help="Workspace (tenant) slug.")
TEXT_COLUMN = typer.Option(None, "--text-column", help="Column holding the text (default: text, utterance, ...).")
LABEL_COLUMN = typer.Option(None, "--label-column", help="Column holding the label (default: label, intent, category).")


def _friendly(fn):
    from deskmate.cli import friendly_errors

    return friendly_errors(fn)


def _read(path: Path, text_column: str | None, label_column: str | None, *, say: bool = True):
    from deskmate.cli import err
    from deskmate.nlp.intent_data import read_labelled

    data = read_labelled(path, text_column=text_column, label_column=label_column)
    if say:
        counts = data.counts()
        err.print(f"{path.name}: text from column [bold]{data.text_column}[/bold], labels from column "
                  f"[bold]{data.label_column}[/bold]; {len(data)} rows, {len(counts)} labels"
                  + (f", {data.skipped} rows skipped (no text or label)" if data.skipped else ""), highlight=False)
    return data


def _progress_reporter(progress):
    task = progress.add_task("starting", total=1.0)

    def report(stage: str, done: float) -> None:
        progress.update(task, description=stage, completed=min(max(done, 0.0), 1.0))

    return report


def _train_with_progress(fit):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from deskmate.cli import err

    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        return fit(_progress_reporter(progress))


@cli.command()
def train(
    data: Optional[Path] = typer.Argument(None, help="CSV or JSONL of labelled examples (text + label/intent/category)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Model directory to write (default: <DATA>-intents)."),
    examples_per_intent: Optional[int] = typer.Option(
        None, "--examples-per-intent", min=1, help="Train on at most N random examples of each intent."),
    from_store: bool = typer.Option(False, "--from-store", help="Train the workspace model from labelled conversations."),
    tenant: Optional[str] = TENANT,
    finetune: bool = typer.Option(False, "--finetune/--no-finetune", help="Fine-tune the encoder first (minutes of CPU; +1-2 points with few examples)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", min=0.0, help="Fine-tuning passes (default: automatic)."),
    seed: int = typer.Option(0, help="Random seed (sampling, calibration split, fine-tuning)."),
    force: bool = typer.Option(False, "--force", help="With --from-store: retrain even if the data did not change."),
    max_withheld: Optional[float] = typer.Option(
        None, "--max-withheld", help="Operating point: answer 'not sure' to at most this share of in-scope messages "
        "(default 0.05, with --max-accuracy-drop 0.02; the threshold is the highest meeting both on held-out data)."),
    max_accuracy_drop: Optional[float] = typer.Option(
        None, "--max-accuracy-drop", help="Operating point: answered-right at most this far under top-label accuracy "
        "(a share: 0.02 is 2 points)."),
    min_oos_recall: Optional[float] = typer.Option(
        None, "--min-oos-recall", help="Operating point instead: answer 'not sure' to at least this share of "
        "unknown-intent messages (simulated on training data), whatever it withholds."),
    text_column: Optional[str] = TEXT_COLUMN,
    label_column: Optional[str] = LABEL_COLUMN,
):
    """Train an intent model and save it with its version and its 'not sure' threshold."""
    _friendly(_train)(data, out, examples_per_intent, from_store, tenant, finetune, epochs, seed, force,
                      (max_withheld, max_accuracy_drop, min_oos_recall), text_column, label_column)


def _train(data, out, examples_per_intent, from_store, tenant, finetune, epochs, seed, force, operating,
           text_column, label_column):
    from deskmate.cli import console, fail
    from deskmate.config import get_settings
    from deskmate.nlp.intent import IntentClassifier, validate_examples
    from deskmate.nlp.intent_operating import OperatingPoint

    OperatingPoint.stated(*operating)  # a bad value is one line, before any data is read
    settings = get_settings()
    params = {"finetune": finetune, "finetune_epochs": epochs, "random_state": seed, "encoder": settings.encoder,
              "models_dir": settings.models_dir, "max_withheld": operating[0], "max_accuracy_drop": operating[1],
              "min_oos_recall": operating[2]}
    if from_store:
        if data is not None:
            fail("give either a DATA file or --from-store, not both")
        _train_from_store(settings, tenant or "default", force, params)
        return
    if data is None:
        fail("give a DATA file (CSV or JSONL with text and label columns), or --from-store --tenant SLUG")
    dataset = _read(data, text_column, label_column)
    if examples_per_intent:
        dataset = dataset.per_intent(examples_per_intent, seed=seed)
    validate_examples(dataset.texts, dataset.labels)  # before the progress bar, so a bad file stays one line
    out = out or Path(f"{data.stem}-intents")
    model = _train_with_progress(lambda report: IntentClassifier(**params).fit(dataset.texts, dataset.labels,
                                                                               progress=report))
    model.save(out)
    info = model.describe()
    console.print(f"intent model [bold]{model.version}[/bold]: {len(model.classes_)} intents, {len(dataset)} examples"
                  f"{', fine-tuned encoder' if info['finetuned'] else ''}; saved to {out}", highlight=False)
    console.print(_threshold_line(model.threshold_, info["calibration"]), highlight=False, soft_wrap=True)


def _threshold_line(threshold: float, calibration: dict) -> str:
    from deskmate.nlp.intent_operating import OperatingPoint

    line = (f"confidence threshold {threshold:.3f}; below it the answer is 'not sure' (calibrated on "
            f"{calibration.get('examples', 0)} held-out examples")
    if "operating_point" not in calibration:
        return line + ")"
    point = OperatingPoint.saved(calibration["operating_point"])
    line += (f", for {point.describe()}: there it withheld {_pct(calibration.get('in_scope_withheld'))} of in-scope "
             f"messages, answered {_pct(calibration.get('in_scope_answered_right'))} right (top label "
             f"{_pct(calibration.get('accuracy'))})")
    if calibration.get("oos_recall") is not None:
        line += f" and said 'not sure' to {_pct(calibration['oos_recall'])} of simulated unknown intents"
    return line + ")" + (f"; {calibration['note']}" if calibration.get("note") else "")


def _train_from_store(settings, tenant: str, force: bool, params: dict) -> None:
    from deskmate.accounts.service import require_tenant
    from deskmate.cli import console, err, open_store
    from deskmate.db import session_scope
    from deskmate.nlp.intent_store import train_workspace_intent_model

    _, factory = open_store(settings)
    with session_scope(factory) as session:
        tenant_id = require_tenant(session, tenant).id
    params = {k: v for k, v in params.items() if k not in ("encoder", "models_dir")}
    result = _train_with_progress(lambda report: train_workspace_intent_model(
        settings, factory, tenant_id, force=force, progress=report, **params))
    if result.dropped_intents:
        err.print(f"left out (fewer than 3 labelled conversations): {', '.join(result.dropped_intents)}", highlight=False)
    if result.trained:
        console.print(f"workspace {tenant}: intent model {result.version} ({result.intents} intents, "
                      f"{result.examples} examples) is now current; saved to {result.path}", highlight=False)
    elif result.version:
        console.print(f"workspace {tenant}: kept intent model {result.version} ({result.reason})", highlight=False)
    else:
        from deskmate.errors import InvalidInput

        raise InvalidInput(f"workspace {tenant}: no intent model trained: {result.reason}")


@cli.command("eval")
def eval_(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="Model directory written by `intents train`."),
    data: Path = typer.Argument(..., help="CSV or JSONL of labelled examples to score."),
    threshold: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Override the model's confidence threshold."),
    show: int = typer.Option(20, min=0, help="Per-intent rows to show (weakest first; 0 for all)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    text_column: Optional[str] = TEXT_COLUMN,
    label_column: Optional[str] = LABEL_COLUMN,
):
    """Score a model: accuracy, macro-F1, per-intent precision/recall, confusions, and the operating curve
    (threshold -> in-scope withheld, in-scope answered right, out-of-scope recall) with the model's chosen point."""
    _friendly(_eval)(model_path, data, threshold, show, as_json, text_column, label_column)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _eval(model_path, data, threshold, show, as_json, text_column, label_column):
    from rich.table import Table

    from deskmate.cli import console, err
    from deskmate.nlp.intent import IntentClassifier
    from deskmate.nlp.intent_eval import evaluate

    model = IntentClassifier.load(model_path)
    dataset = _read(data, text_column, label_column, say=not as_json)
    report = evaluate(model, dataset.texts, dataset.labels, threshold=threshold)
    if as_json:
        print(json.dumps({"model": model.version, **report.as_dict()}, indent=2))
        return
    if report.unseen_labels:
        err.print(f"labels the model never saw, scored as out of scope: {', '.join(report.unseen_labels[:10])}"
                  + (" ..." if len(report.unseen_labels) > 10 else ""), highlight=False)
    summary = Table(title=f"intent model {model.version} on {data.name}", show_header=False)
    summary.add_row("examples", f"{report.examples} ({report.in_scope} in scope, {report.out_of_scope} out of scope)")
    summary.add_row("accuracy (top label)", _pct(report.accuracy))
    summary.add_row("macro-F1", _pct(report.macro_f1))
    summary.add_row("mean confidence / calibration error", f"{_pct(report.mean_confidence)} / {_pct(report.calibration_error)}")
    summary.add_row("answered right (with threshold)", _pct(report.answered_accuracy))
    summary.add_row("in-scope withheld", _pct(report.in_scope_withheld))
    summary.add_row("threshold", f"{report.threshold:.3f}" + (" (given)" if threshold is not None else " (the model's)"))
    if report.out_of_scope:
        summary.add_row("out-of-scope recall", _pct(report.oos_recall))
        summary.add_row("out-of-scope precision", _pct(report.oos_precision))
    console.print(summary)
    _print_curve(report, given=threshold is not None)
    rows = report.per_intent if show == 0 else report.per_intent[:show]
    if rows:
        table = Table("intent", "precision", "recall", "F1", "support",
                      title="per intent" + ("" if show == 0 else f" (weakest {len(rows)} of {len(report.per_intent)})"))
        for row in rows:
            table.add_row(row["intent"], _pct(row["precision"]), _pct(row["recall"]), _pct(row["f1"]), str(row["support"]))
        console.print(table)
    if report.confused:
        table = Table("true intent", "predicted as", "times", title="most confused pairs")
        for truth, predicted, n in report.confused:
            table.add_row(truth, predicted, str(n))
        console.print(table)


def _print_curve(report, given: bool) -> None:
    from rich.table import Table

    from deskmate.cli import console

    table = Table("threshold", "in-scope\nwithheld", "in-scope\nanswered right", "out-of-scope\nrecall",
                  "out-of-scope\nprecision", title=f"operating curve (top-label accuracy {_pct(report.accuracy)})")
    for row in report.curve:
        mark = " <- chosen" if row["chosen"] else ""
        style = "bold" if row["chosen"] else None
        table.add_row(f"{row['threshold']:.3f}{mark}", _pct(row["in_scope_withheld"]),
                      _pct(row["in_scope_answered_right"]), _pct(row["oos_recall"]), _pct(row["oos_precision"]),
                      style=style)
    console.print(table)
    from deskmate.nlp.intent_operating import OperatingPoint

    (chosen,) = [row for row in report.curve if row["chosen"]]
    if given:
        why = "given with --threshold"
    elif report.operating_point:
        point = OperatingPoint.saved(report.operating_point)
        why = f"the model's, chosen on held-out training rows for {point.describe()}"
    else:
        why = "the model's"
    console.print(f"chosen point: threshold {chosen['threshold']:.3f} ({why}): here {_pct(chosen['in_scope_withheld'])} "
                  f"of in-scope messages withheld, answered right {_pct(chosen['in_scope_answered_right'])} (top label "
                  f"{_pct(report.accuracy)}), out-of-scope recall {_pct(chosen['oos_recall'])}",
                  highlight=False, soft_wrap=True)
    if not report.out_of_scope:
        console.print("no out-of-scope rows in this data: label some 'oos', or leave intents out of training, "
                      "to measure out-of-scope recall", highlight=False)


@cli.command()
def predict(
    text: str = typer.Argument(..., help="A customer message."),
    model_path: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory written by `intents train`."),
    tenant: Optional[str] = TENANT,
    top: int = typer.Option(3, min=1, help="Alternatives to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Predict the intent of one message (with --model PATH, or the workspace's current model with --tenant)."""
    _friendly(_predict)(text, model_path, tenant, top, as_json)


def _predict(text, model_path, tenant, top, as_json):
    from deskmate.cli import console, fail
    from deskmate.config import get_settings
    from deskmate.nlp.intent import IntentClassifier, load_workspace_intent_model

    if not text.strip():
        fail("give a non-empty message")
    if model_path is not None:
        model = IntentClassifier.load(model_path)
    else:
        tenant = tenant or "default"
        model = load_workspace_intent_model(get_settings(), tenant)
        if model is None:
            fail(f"workspace {tenant} has no intent model yet; run `deskmate intents train --from-store --tenant {tenant}`"
                 " or give --model PATH")
    (prediction,) = model.predict_with_confidence([text], top=top)
    if as_json:
        print(json.dumps({"label": prediction.label, "confidence": round(prediction.confidence, 4),
                          "ranked": prediction.ranked, "model_version": model.version}))
        return
    if prediction.label is None:
        console.print(f"[yellow]no known intent[/yellow] (best guess {prediction.ranked[0][0]} at "
                      f"{prediction.confidence:.2f}, under the threshold {model.threshold_:.2f})", highlight=False)
    else:
        console.print(f"[bold]{prediction.label}[/bold]  confidence {prediction.confidence:.2f}", highlight=False)
    for label, p in prediction.ranked[1:]:
        console.print(f"  {label}  {p:.2f}", highlight=False)
