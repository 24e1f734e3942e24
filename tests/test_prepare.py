"""`deskmate prepare`: the registered steps run in their listed order, and one failing step does not stop the rest."""

from __future__ import annotations

from deskmate.prepare import PrepareStep, prepare_workspace_all


def test_steps_run_in_the_listed_order_and_a_failure_is_isolated(settings):
    calls = []

    def step(name, fail=False):
        def run(settings_, sessionmaker, tenant_id, progress):
            calls.append((name, tenant_id, progress is not None))
            if fail:
                raise RuntimeError(f"{name} broke")
            return name.upper()

        return PrepareStep(name, run)

    report = prepare_workspace_all(settings, None, 42, steps=[step("nlp", fail=True), step("assist"), step("insights")])
    assert calls == [("nlp", 42, True), ("assist", 42, True), ("insights", 42, True)]
    assert [s.domain for s in report.failed] == ["nlp"] and "nlp broke" in report.failed[0].error
    assert [s.detail for s in report.steps] == [None, "ASSIST", "INSIGHTS"]


def test_default_steps_are_every_domains_preparation_in_dependency_order():
    from deskmate.plugins import default_prepare_steps

    steps = default_prepare_steps()
    assert [s.domain for s in steps] == ["reasons", "nlp", "assist", "outcomes", "insights", "learning"]
    assert steps[0].run.__module__ == "deskmate.reasons.service"  # reasons from topics, before the intent model
    assert all(s.run.__module__ == f"deskmate.{s.domain}.pipeline" for s in steps[1:])
