"""``listdock user`` and ``listdock api-user``: principals from the command line.

These commands act as the server's operator, outside any token, and are audited with no actor.
"""

from __future__ import annotations

from typing import Annotated

import typer

from listdock.cli import load_services, user_errors

user_app = typer.Typer(help="Create, disable, enable and delete users.", no_args_is_help=True)
api_user_app = typer.Typer(help="Create API users (no web login).", no_args_is_help=True)


@user_app.command("create")
@user_errors
def user_create(
    email: Annotated[str, typer.Argument(help="Email address, used to log in.")],
    name: Annotated[str | None, typer.Option(help="Display name; the email by default.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Password of at least 8 characters; asked for when omitted.")
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option(help="System role to assign; repeat for several.")
    ] = None,
) -> None:
    """Create a user who logs in with email and password."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    services = load_services()
    try:
        with services.sessions.begin() as session:
            user = services.principals.create_user(
                session, name=name or email, email=email, password=secret, actor_id=None
            )
            if role:
                services.principals.assign_system_roles(session, user, role, actor_id=None)
        typer.echo(f"Created user {email} ({user.id}).")
    finally:
        services.close()


def _set_status(email_or_name: str, status: str) -> None:
    services = load_services()
    try:
        with services.sessions.begin() as session:
            principal = services.principals.find_by_login(session, email_or_name)
            if status == "Disabled" and principal.status == "Active":
                services.principals.require_other_administrator(session, principal.id)
            services.principals.update(session, principal, name=None, status=status, actor_id=None)
        verb = "Enabled" if status == "Active" else "Disabled"
        typer.echo(f"{verb} {principal.name}; its tokens follow at once.")
    finally:
        services.close()


@user_app.command("disable")
@user_errors
def user_disable(
    user: Annotated[str, typer.Argument(help="Email or name of the user or API user.")],
) -> None:
    """Disable a user or API user; its tokens stop working on the next request."""
    _set_status(user, "Disabled")


@user_app.command("enable")
@user_errors
def user_enable(
    user: Annotated[str, typer.Argument(help="Email or name of the user or API user.")],
) -> None:
    """Enable a disabled user or API user again."""
    _set_status(user, "Active")


@user_app.command("delete")
@user_errors
def user_delete(
    user: Annotated[str, typer.Argument(help="Email or name of the user or API user.")],
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.")] = False,
) -> None:
    """Delete a user or API user and all of its tokens."""
    services = load_services()
    try:
        with services.sessions.begin() as session:
            principal = services.principals.find_by_login(session, user)
            services.principals.require_other_administrator(session, principal.id)
            if not yes:
                typer.confirm(f"Delete {principal.name} and all of its tokens?", abort=True)
            services.principals.delete(session, principal, actor_id=None)
        typer.echo(f"Deleted {principal.name}.")
    finally:
        services.close()


@api_user_app.command("create")
@user_errors
def api_user_create(
    name: Annotated[str, typer.Argument(help="Name of the API user.")],
    token_name: Annotated[
        str | None,
        typer.Option(help="Also create a token with this name and print only its value."),
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(help="System role to assign, e.g. ApiReader; repeat for several."),
    ] = None,
) -> None:
    """Create an API user; with --token-name, print the new token's value alone."""
    services = load_services()
    try:
        with services.sessions.begin() as session:
            api_user = services.principals.create_api_user(session, name=name, actor_id=None)
            if role:
                services.principals.assign_system_roles(session, api_user, role, actor_id=None)
            issued = None
            if token_name is not None:
                account = services.accounts.get(session)
                issued = services.tokens.create(
                    session,
                    api_user,
                    token_name,
                    created_by=None,
                    max_lifetime_days=account.max_token_lifetime_days,
                )
        if issued is not None:
            typer.echo(issued.value)
        else:
            typer.echo(f"Created API user {api_user.name} ({api_user.id}).")
    finally:
        services.close()
