"""API models of staff sign-in and of the signed-in person's own account."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.routing.directory.schemas import Password, Username
from shared.events.vocabulary import Role

RefreshToken = Annotated[str, StringConstraints(min_length=20, max_length=200,
                                                pattern=r"^[A-Za-z0-9_-]+$")]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshToken


class TokenPair(BaseModel):
    """OAuth 2.0's token response, plus who signed in."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token lives.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds the refresh token may be used in.")
    person_id: uuid.UUID
    role: Role
    sectors: list[str]
    entities: list[str]


class Me(BaseModel):
    id: uuid.UUID
    username: str
    full_name: str
    role: Role
    sectors: list[str]
    entities: list[str]
    permissions: list[str]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class StandingAnswer(BaseModel):
    person_id: uuid.UUID | None
    standing: str = "active"
