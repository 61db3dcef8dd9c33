"""Demo data: the operator ``operator`` (password ``operator-password``), who owns two robots, and a manager.

The robots' secret is ``demo-robot-secret`` (printed in README.md, for
trying ``pyramidion robot-sim``; never in production).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pyramidion.auth import hash_secret
from pyramidion.demo import demo_user

from .models import Robot

DEMO_ROBOTS = [("UR-0001", "Rover one"), ("UR-0002", "Rover two")]
DEMO_SECRET = "demo-robot-secret"


def add_demo_data(db: Any, registry: Any) -> None:
    """Two robots owned by ``operator``, and ``robot-manager`` in the group robots-managers; safe to run twice."""
    operator = demo_user(db, registry, "operator")
    demo_user(db, registry, "robot-manager", groups=["robots-managers"])
    known = set(db.scalars(select(Robot.serial).where(Robot.serial.in_([serial for serial, _ in DEMO_ROBOTS]))))
    for serial, name in DEMO_ROBOTS:
        if serial not in known:
            db.add(Robot(serial=serial, name=name, owner=operator, secret_hash=hash_secret(DEMO_SECRET)))
