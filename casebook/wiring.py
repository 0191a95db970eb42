"""Wires the packages' listeners and guards into the lifecycle (imported by the app context)."""

import review.prechecks  # noqa: F401  - pre-check guard on submit, results and auto-start on submitted
import review.tasks  # noqa: F401  - review tasks follow the case's state
