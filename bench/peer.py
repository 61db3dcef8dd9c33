"""The FastAPI peer: Pyramidion's task list and detail, written as FastAPI's documentation teaches.

``python -m bench`` serves it on the same database as Pyramidion and prints
every HTTP figure as a ratio to it (issue 17). It is the stack a team would
pick today, used the ordinary way:

* SQLAlchemy 2 ORM models of its own, mapped onto the tables Pyramidion's core
  and tasks plugin create (it never imports pyramidion);
* one sync ``Session`` per request from a generator dependency (``Depends``),
  relations loaded with ``selectinload``;
* pydantic v2 response models (``response_model``);
* an OAuth2 bearer token decoded with PyJWT, the access tokens Pyramidion
  issues (same secret, algorithm and claims), and the user loaded per request
  with the login session it names, so a revoked login is refused as by
  Pyramidion;
* uvicorn with 2 workers::

      PEER_DATABASE_URL=sqlite:///bench.sqlite PEER_JWT_SECRET=... uvicorn bench.peer:app --workers 2

Endpoints: ``GET /api/tasks?limit=&offset=`` (the caller's tasks, latest due
date first, in Pyramidion's ``{count, next, previous, results}`` envelope),
``GET /api/tasks/{id}`` (with comments, newest first, and attachments),
``GET /api/auth/me`` (the caller with groups and permissions) and
``GET /api/health`` (the database answers).
"""

import datetime as dt
import enum
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Boolean, Date, DateTime, Enum, ForeignKey, String, Text, TypeDecorator, func, or_, select, text
from sqlalchemy import create_engine as sqlalchemy_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload, sessionmaker

VIEW_ALL, ADMIN = "tasks.view_all", "tasks.admin"  # the tasks plugin's permissions that read any task


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEER_")

    database_url: str
    jwt_secret: str
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "pyramidion"
    jwt_audience: str = "pyramidion-api"
    jwt_leeway: int = 5


@lru_cache
def get_settings() -> Settings:
    return Settings()


# -- models: the tables Pyramidion created ---------------------------------------


class UTCDateTime(TypeDecorator):
    """Aware UTC timestamps on SQLite too, which keeps no time zone (as Pyramidion reads them)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "auth_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(150))
    last_name: Mapped[str] = mapped_column(String(150))
    email_visible: Mapped[bool] = mapped_column(Boolean)
    is_active: Mapped[bool] = mapped_column(Boolean)
    is_superuser: Mapped[bool] = mapped_column(Boolean)

    groups: Mapped[list["Group"]] = relationship(secondary="auth_user_group", order_by="Group.name")

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.username


class Group(Base):
    __tablename__ = "auth_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))


class UserGroup(Base):
    __tablename__ = "auth_user_group"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("auth_group.id"), primary_key=True)


class GroupPermission(Base):
    __tablename__ = "auth_group_permission"

    group_id: Mapped[int] = mapped_column(ForeignKey("auth_group.id"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class LoginSession(Base):
    """A login; access tokens name it (``sid``), and a logout revokes it."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Status(str, enum.Enum):
    new = "new"
    in_work = "in_work"
    completed = "completed"


class TaskPerformer(Base):
    __tablename__ = "tasks_task_performer"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"), primary_key=True)


class Task(Base):
    __tablename__ = "tasks_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str] = mapped_column(Text)
    due_date: Mapped[dt.date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=20))
    delegated: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    creator: Mapped[User] = relationship()
    performers: Mapped[list[User]] = relationship(secondary="tasks_task_performer", order_by=User.username)
    comments: Mapped[list["Comment"]] = relationship(order_by="[Comment.created_at.desc(), Comment.id.desc()]")
    attachments: Mapped[list["Attachment"]] = relationship(order_by="Attachment.id")


class Comment(Base):
    __tablename__ = "tasks_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()


class Attachment(Base):
    __tablename__ = "tasks_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks_task.id"))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    uploader: Mapped[User] = relationship()


# -- response models -----------------------------------------------------------


class UserRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    specification: str
    due_date: dt.date
    status: Status
    delegated: bool
    creator: UserRef
    performers: list[UserRef]
    created_at: dt.datetime
    updated_at: dt.datetime


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    author: UserRef
    created_at: dt.datetime


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    uploader: UserRef
    created_at: dt.datetime


class TaskDetail(TaskOut):
    comments: list[CommentOut]
    attachments: list[AttachmentOut]


class TaskPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[TaskOut]


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    display_name: str
    email_visible: bool
    is_superuser: bool
    groups: list[str]
    permissions: list[str]


# -- dependencies --------------------------------------------------------------


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    url = get_settings().database_url
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    return sessionmaker(sqlalchemy_engine(url, connect_args=connect_args))


def get_db() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], db: SessionDep) -> User:
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway,
            options={"require": ["exp", "iat", "sub", "iss", "aud", "typ"]},
        )
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        raise unauthorized from None
    if claims["typ"] != "access":
        raise unauthorized
    user = db.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.id == claims.get("sid"), LoginSession.revoked_at.is_(None))
    )
    if user is None or not user.is_active:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def permissions_of(db: Session, user: User) -> set[str]:
    return set(
        db.scalars(
            select(GroupPermission.permission)
            .join(UserGroup, UserGroup.group_id == GroupPermission.group_id)
            .where(UserGroup.user_id == user.id)
        )
    )


# -- the API -------------------------------------------------------------------

app = FastAPI(title="Pyramidion's FastAPI peer")


@app.get("/api/tasks", response_model=TaskPage)
def list_tasks(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Any:
    """The tasks you created or perform, latest due date first."""
    performed = select(TaskPerformer.task_id).where(TaskPerformer.user_id == user.id)
    mine = or_(Task.creator_id == user.id, Task.id.in_(performed))
    count = db.scalar(select(func.count()).select_from(Task).where(mine))
    tasks = db.scalars(
        select(Task)
        .where(mine)
        .options(selectinload(Task.creator), selectinload(Task.performers))
        .order_by(Task.due_date.desc(), Task.id)
        .offset(offset)
        .limit(limit)
    ).all()
    page = request.url.include_query_params(limit=limit)
    return {
        "count": count,
        "next": str(page.include_query_params(offset=offset + limit)) if offset + limit < count else None,
        "previous": str(page.include_query_params(offset=max(offset - limit, 0))) if offset > 0 else None,
        "results": tasks,
    }


@app.get("/api/tasks/{task_id}", response_model=TaskDetail)
def read_task(task_id: Annotated[int, Path(ge=1, le=2**31 - 1)], db: SessionDep, user: CurrentUser) -> Any:
    """One task with its comments (newest first) and attachments."""
    task = db.get(
        Task,
        task_id,
        options=[
            selectinload(Task.creator),
            selectinload(Task.performers),
            selectinload(Task.comments).selectinload(Comment.author),
            selectinload(Task.attachments).selectinload(Attachment.uploader),
        ],
    )
    if task is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="no such task")
    readable = (
        task.creator_id == user.id
        or any(performer.id == user.id for performer in task.performers)
        or user.is_superuser
        or permissions_of(db, user) & {VIEW_ALL, ADMIN}
    )
    if not readable:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN, detail="this task is neither yours nor one you perform"
        )
    return task


@app.get("/api/auth/me", response_model=Me)
def read_users_me(db: SessionDep, user: CurrentUser) -> Any:
    """The caller with their groups and permissions."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "email_visible": user.email_visible,
        "is_superuser": user.is_superuser,
        "groups": [group.name for group in user.groups],
        "permissions": sorted(permissions_of(db, user)),
    }


@app.get("/api/health")
def health(db: SessionDep) -> dict[str, str]:
    """The database answers."""
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
