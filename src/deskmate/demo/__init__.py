"""The demo workspace: Loomhouse, an online clothing retailer, and 90 days of its support history.

`deskmate demo` generates it from a seed (`generator.generate`), loads it through the
normal import and knowledge paths (`build.build_demo`), prepares every domain
(`prepare.prepare_workspace_all`) and serves it; `truth.load_truth(settings)` gives
the ground truth benchmarks measure against.
"""

from deskmate.demo.truth import load_truth

__all__ = ["load_truth"]
