"""Request and response bodies of the robots API, and the data frames robots send over WAMP."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, FiniteFloat, StrictBool, TypeAdapter, ValidationError, model_validator

from pyramidion.api import In, Out, Patch, Timestamp
from pyramidion.auth import UserRef

from .models import CommandStatus, RobotState

Serial = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


# -- robots ----------------------------------------------------------------------


class RobotIn(In):
    serial: Serial
    name: str = Field("", max_length=200)
    owner_id: int | None = Field(None, description="the owning user; default: whoever registers the robot")


class RobotPatch(Patch):
    name: str = Field(max_length=200)


class RobotOut(Out):
    id: int
    serial: str
    name: str
    owner: UserRef | None
    connected: bool
    connected_since: Timestamp | None
    created_at: Timestamp


class RobotWithSecret(RobotOut):
    secret: str = Field(description="shown this once; only a hash is kept")


class SecretOut(Out):
    secret: str = Field(description="shown this once; the previous secret and its unused tokens stop working")


class ShareIn(In):
    """Whom to share with: a user's ``user_id`` or ``username``, exactly one of them."""

    user_id: int | None = None
    username: str | None = Field(None, min_length=1, max_length=150)

    @model_validator(mode="after")
    def _one_user(self) -> ShareIn:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("give user_id or username, one of them")
        return self


# -- joining the router ------------------------------------------------------------


class TokenIn(In):
    serial: str = Field(min_length=1, max_length=100)
    secret: str = Field(min_length=1, max_length=200)


class TokenOut(Out):
    token: str = Field(description="the WAMP-ticket to join with; single use")
    expires_in: int = Field(description="seconds left to join with it")
    url: str = Field(description="the router's WebSocket address")
    realm: str


# -- commands and positions ------------------------------------------------------


class CommandIn(In):
    command: RobotState


class CommandOut(Out):
    id: int
    robot_id: int
    command: RobotState
    status: CommandStatus
    sent_by: UserRef | None
    created_at: Timestamp
    expires_at: Timestamp
    delivered_at: Timestamp | None
    finished_at: Timestamp | None
    message: str | None


class PositionOut(Out):
    frame_id: int
    state: RobotState
    timestamp: Timestamp = Field(description="the robot's own clock when it took the position")
    received_at: Timestamp
    speed: float
    position_x: float
    position_y: float
    angle_theta: float


class RobotsOfUser(Out):
    id: int
    serial: str
    name: str
    connected: bool


# -- data frames (over WAMP) -----------------------------------------------------
#
# {"id": 41, "type": 1, "state": "auto", "timestamp": "2026-01-31T12:00:00.250Z",
#  "data": {"speed": 0.4, "position_x": 1.5, "position_y": -2.0, "angle_theta": 0.79}}


class PositionData(In):
    speed: FiniteFloat
    position_x: FiniteFloat
    position_y: FiniteFloat
    angle_theta: FiniteFloat


class GeoData(In):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude: FiniteFloat | None = None


Reading = StrictBool | int | FiniteFloat | Annotated[str, Field(max_length=200)]
HardwareData = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=64)], Reading], Field(min_length=1, max_length=50)
]


class _Frame(In):
    id: int = Field(
        ge=0, lt=2**63, description="the robot's own number for the frame; a repeated id is not stored again"
    )
    state: RobotState
    timestamp: Timestamp


class PositionFrame(_Frame):
    type: Literal[1]
    data: PositionData


class GeoFrame(_Frame):
    type: Literal[2]
    data: GeoData


class HardwareFrame(_Frame):
    type: Literal[3]
    data: HardwareData


AnyFrame = Annotated[PositionFrame | GeoFrame | HardwareFrame, Field(discriminator="type")]
_frame = TypeAdapter(AnyFrame)
FRAME_TYPES = {"1", "2", "3"}


class InvalidFrame(ValueError):
    """What is wrong with a frame, every problem named: ``data.speed: Input should be a finite number``."""


def parse_frame(value: Any) -> PositionFrame | GeoFrame | HardwareFrame:
    try:
        return _frame.validate_python(value)
    except ValidationError as exc:
        raise InvalidFrame(_problems(exc)) from None


def _problems(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        location = [str(part) for part in error["loc"]]
        if error["type"].startswith("union_tag"):
            location = ["type"]
        elif location and location[0] in FRAME_TYPES:
            location = location[1:]  # the union's tag: "1.data.speed" reads better as "data.speed"
        problems.append(f"{'.'.join(location) or 'frame'}: {error['msg']}")
    return "; ".join(problems)
