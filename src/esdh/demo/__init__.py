"""``esdh demo``: the classic demo flow as one command, with its bugs fixed.

A snapshot into a timestamped folder (``layout``), the API started as a subprocess and always stopped
(``server``), a preview through the API and smoke checks (``smoke``), a summary and a rotated JSON-lines log
(``flow``); ``clean`` removes it all again. Nothing here is imported until the command runs.
"""

from esdh.demo.clean import clean_root
from esdh.demo.flow import DemoFailed, DemoOptions, DemoResult, run_demo
from esdh.demo.server import stop_recorded

__all__ = ["DemoFailed", "DemoOptions", "DemoResult", "clean_root", "run_demo", "stop_recorded"]
