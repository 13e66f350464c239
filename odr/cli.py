"""The ``odr`` command: a Flask CLI group with the platform's own commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command, with_appcontext

from odr.extensions import db

#: The commands whose app has the Socket.IO server: those that serve the site, and the shell. The
#: others (export, tick, verify …) neither serve nor emit, and load the platform without it.
SOCKET_COMMANDS = frozenset({"run", "demo", "shell"})


class _Platform(FlaskGroup):
    def get_command(self, ctx, name):
        # The app is made while its command is looked up: tell _create_app which command it is for.
        ctx.ensure_object(ScriptInfo).data["command"] = name
        return super().get_command(ctx, name)


def _create_app():
    from odr import create_app

    info = click.get_current_context().find_object(ScriptInfo)
    return create_app(sockets=info.data.get("command") in SOCKET_COMMANDS)


main = _Platform(create_app=_create_app, add_default_commands=False,
                 help="odr — online dispute resolution platform.")
main.add_command(shell_command)
main.add_command(routes_command)


def register_commands(app):
    for command in (init_db, demo, run, audit_group, create_user, end_sessions, revoke_role, api_token, outbox_group,
                    kb_group, tick,
                    verify_pdf, documents_group, export_case, verify_bundle_command,
                    media_bridge, jobs_command, report, center_group, migration_commands):
        app.cli.add_command(command)


def migrations(app):
    """Flask-Migrate, bound to ``app`` when a command first migrates. It imports Alembic (with Mako
    and Pygments, ~8 MB resident), which neither the web process nor ``odr export`` needs."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        from odr import ROOT

        Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


class _MigrationCommands(click.Command):
    """``odr db …``: Flask-Migrate's command group, imported when it is run."""

    def make_context(self, info_name, args, parent=None, **extra):
        migrations(current_app._get_current_object())
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


migration_commands = _MigrationCommands("db", help="Alembic database migrations (Flask-Migrate).")


def upgrade_database():
    """Bring the database schema to the newest migration."""
    migrations(current_app._get_current_object())
    from flask_migrate import upgrade

    upgrade()


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade_database()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (one per core). More than one needs the Redis message "
                   "queue (ODR_SOCKETIO_MESSAGE_QUEUE) and, for more than a demo, PostgreSQL (see README).")
@click.option("--media-bridge/--no-media-bridge", "with_bridge", default=True, show_default=True,
              help="Start the video media bridge (recording) beside the web process.")
@click.option("--cert", type=click.Path(dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM); with --key. Phones need HTTPS for camera access "
                   "on anything but localhost. 'odr run --self-signed' makes one.")
@click.option("--key", type=click.Path(dir_okay=False), default=None)
@click.option("--self-signed", is_flag=True, help="Serve HTTPS with a self-signed certificate kept in the instance folder.")
def run(host, port, workers, with_bridge, cert, key, self_signed):
    """Serve the platform (gunicorn, gevent workers), with the periodic jobs and the media bridge beside it."""
    from odr.serve import serve

    app = current_app._get_current_object()
    if self_signed:
        cert, key = self_signed_certificate(app, host)
    if cert and key and app.config["SECURE_COOKIES"] is not False:
        from odr import set_secure_cookies

        app.config["PREFERRED_URL_SCHEME"] = "https"
        set_secure_cookies(app, True)  # served over HTTPS: the cookies never travel in the clear
    serve(app, host, port, workers=workers, with_bridge=with_bridge, cert=cert, key=key)


def self_signed_certificate(app, host: str) -> tuple[str, str]:
    """A self-signed certificate for ``host`` in the instance folder (made once, valid a year)."""
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(app.instance_path)
    cert_path, key_path = folder / "selfsigned-cert.pem", folder / "selfsigned-key.pem"
    if cert_path.exists() and key_path.exists():
        return str(cert_path), str(key_path)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
                   .sign(private, hashes.SHA256()))
    key_path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(cert_path), str(key_path)


@click.command("media-bridge")
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The web app to connect to.")
@with_appcontext
def media_bridge(url):
    """Run the video media bridge (recording with consent) against the web app at URL."""
    import threading

    from odr.serve import watch_parent
    from odr.video.media_bridge import run as run_bridge

    stop = threading.Event()
    watch_parent(stop)  # started by odr run: stop with it, even when it is killed
    run_bridge(url, current_app._get_current_object(), stop)


@click.command("jobs")
@with_appcontext
def jobs_command():
    """Run the periodic jobs every JOBS_INTERVAL_SECONDS until stopped (odr run starts this beside the server)."""
    from odr.serve import run_jobs_until_stopped

    run_jobs_until_stopped(current_app._get_current_object())


@click.command("demo")
@click.option("--serve/--no-serve", "serve_after", default=True, help="Serve on http://127.0.0.1:PORT afterwards.")
@click.option("--port", default=5000, show_default=True, type=int, envvar="PORT")
@with_appcontext
def demo(serve_after, port):
    """Load demo organisations, one user per role and 38 cases (12 current, 26 closed), then serve."""
    from odr import demo as demo_data

    upgrade_database()
    created = demo_data.load()
    db.session.commit()
    if created:
        click.echo("Demo data loaded. Sign in with these accounts (password for all: "
                   f"{demo_data.PASSWORD}):")
    else:
        click.echo(f"Demo data already present. Accounts (password {demo_data.PASSWORD}):")
    for role, contact, name in demo_data.ACCOUNTS:
        click.echo(f"  {role:<16} {contact:<28} {name}")
    if serve_after:
        from odr.serve import serve

        serve(current_app._get_current_object(), "127.0.0.1", port, with_bridge=True)


@click.group("audit")
def audit_group():
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@click.argument("case_number", required=False)
@click.option("--checkpoint", "checkpoint_files", multiple=True, type=click.Path(dir_okay=False),
              help="A signed checkpoint a witness kept (one case's, a public one, or a bundle's "
                   "audit-checkpoints.json); the chains must agree with it. May be given more than once.")
@with_appcontext
def audit_verify(case_number, checkpoint_files):
    """Recompute audit chains and check each against every signed checkpoint of it (in the database
    and in the files given); name the first broken link. Exit status 1 on any problem."""
    import json

    from odr.cases import audit
    from odr.cases.models import Case
    from odr.documents.ca import platform_ca
    from odr.documents.checkpoints import AuditVerification

    check = AuditVerification([platform_ca().ca.asn1_cert])
    for path in checkpoint_files:
        try:
            data = json.loads(Path(path).read_bytes())
        except OSError as exc:
            raise click.ClickException(f"Cannot read {path}: {exc.strerror}") from None
        except ValueError:
            raise click.ClickException(f"{path}: not JSON") from None
        check.add_file(Path(path).name, data)
    if case_number:
        case = db.session.scalar(sa.select(Case).where(Case.number == case_number[:20]))
        if case is None:
            raise click.ClickException(f"No case {case_number}")
        check.check_chain(audit.chain_name(case))
    else:
        check.check_all()
    for problem in check.problems:
        click.echo(f"BROKEN {problem}")
    click.echo(f"{check.chains} chain(s) checked against {check.checkpoints} checkpoint(s), "
               f"{len(check.problems)} broken.")
    sys.exit(1 if check.problems else 0)


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint():
    """Sign a checkpoint of every chain that moved since the last periodic one, now (the periodic
    job does it every AUDIT_CHECKPOINT_MINUTES)."""
    from odr.documents.checkpoints import CheckpointError, checkpoint_moved_chains

    try:
        heads = checkpoint_moved_chains(force=True)
    except CheckpointError as exc:
        db.session.rollback()
        from flask_babel import force_locale

        with current_app.test_request_context(), force_locale("en"):  # like the command's other messages
            reason = str(exc.reason)
        raise click.ClickException(reason) from None
    db.session.commit()
    click.echo(f"{heads} chain head(s) signed." if heads else "No chain moved since the last checkpoint.")


@click.command("verify")
@click.argument("pdf", type=click.Path(dir_okay=False))
@click.option("--trust", "extra_roots", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Another trusted root certificate (PEM or DER); the platform CA is always trusted.")
@with_appcontext
def verify_pdf(pdf, extra_roots):
    """Check every signature of a signed PDF: signer, time, intact, trusted to the platform CA,
    what it covers, and whether anything changed after the last one. Exit status 1 on any failure
    (2 if the file cannot be read at all)."""
    from asn1crypto import pem, x509 as asn1_x509

    from odr.documents.ca import platform_ca
    from odr.documents.pades import NotAPdf, TooComplex
    from odr.documents.verify import verify

    roots = [platform_ca().ca.asn1_cert]
    for path in extra_roots:
        try:
            data = Path(path).read_bytes()
            if pem.detect(data):
                data = pem.unarmor(data)[2]
            root = asn1_x509.Certificate.load(data)
        except (OSError, ValueError, TypeError) as exc:
            click.echo(f"{path}: not a certificate ({str(exc)[:100]})", err=True)
            sys.exit(2)
        roots.append(root)
    try:
        data = Path(pdf).read_bytes()
    except OSError as exc:
        click.echo(f"Cannot read {pdf}: {exc.strerror}", err=True)
        sys.exit(2)
    try:
        report = verify(data, roots)
    except TooComplex as exc:
        click.echo(f"{pdf}: beyond what can be checked ({exc})", err=True)
        sys.exit(2)
    except NotAPdf as exc:
        click.echo(f"{pdf}: not a readable PDF ({exc})", err=True)
        sys.exit(2)
    for line in report.lines():
        click.echo(line)
    sys.exit(0 if report.ok else 1)


@click.command("export")
@click.argument("case_number")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the ZIP.")
@with_appcontext
def export_case(case_number, output):
    """Write the court bundle of a case: manifest (signed), case data, index, signed documents,
    shared evidence, recordings and the audit trail, as one ZIP."""
    import os
    import time

    from odr.cases.models import Case
    from odr.court.bundle import ExportError, export

    case = db.session.scalar(sa.select(Case).where(Case.number == case_number[:20]))
    if case is None:
        raise click.ClickException(f"No case {case_number}")
    started = time.perf_counter()
    partial = f"{output}.part"
    try:
        with open(partial, "wb") as out:
            manifest = export(case, out)
        os.replace(partial, output)  # a half-written bundle never carries the final name
    except ExportError as exc:
        os.unlink(partial)
        raise click.ClickException(str(exc)) from None
    size = sum(f["size"] for f in manifest["files"])
    click.echo(f"{output}: {len(manifest['files'])} files, {size:,} bytes of content, "
               f"in {time.perf_counter() - started:.1f} s")


@click.command("verify-bundle")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="Also list what was checked and found in order.")
@with_appcontext
def verify_bundle_command(bundle, verbose):
    """Check a court bundle: the manifest's signature, every file's hash and size, nothing missing
    or added, the audit chain, every PDF signature. Names each problem; exit status 1 on any."""
    from odr.court.verify_bundle import verify_bundle
    from odr.documents.ca import platform_ca

    report = verify_bundle(bundle, [platform_ca().ca.asn1_cert])
    if verbose:
        for line in report.checked:
            click.echo(f"ok       {line}")
    for line in report.problems:
        click.echo(f"PROBLEM  {line}")
    click.echo("RESULT: the bundle is intact" if report.ok else f"RESULT: FAILED ({len(report.problems)} problems)")
    sys.exit(0 if report.ok else 1)


@click.command("create-user")
@click.option("--contact", required=True, help="Phone number or e-mail address.")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True,
              type=click.Choice(["consultant", "mediator", "arbitrator", "staff", "manager", "court_clerk", "admin"]))
@click.option("--org", "org_id", type=int, help="Organisation id the roles are held in.")
@with_appcontext
def create_user(contact, name, password, roles, org_id):
    """Create an account, optionally with roles."""
    from odr.auth import operations as auth_ops
    from odr.cases.operations import grant_role
    from odr.contacts import ContactError, normalize_contact
    from odr.auth.models import Role
    from odr.cases.models import Organization

    try:
        contact = normalize_contact(contact)
    except ContactError as exc:
        raise click.BadParameter(str(exc), param_hint="--contact") from None
    if auth_ops.find_user(contact):
        raise click.ClickException(f"An account for {contact} exists already.")
    if len(password) < 8:
        raise click.BadParameter("Use at least 8 characters.", param_hint="--password")
    org = db.session.get(Organization, org_id) if org_id else None
    if org_id and org is None:
        raise click.BadParameter(f"No organisation {org_id}.", param_hint="--org")
    user = auth_ops.create_user(contact, name, password)
    for role in roles:
        grant_role(user, Role(role), org)
    db.session.commit()
    click.echo(f"Created user {user.id} ({contact}) with roles: {', '.join(roles) or 'none'}")


def _account(contact: str):
    from odr.auth import operations as auth_ops
    from odr.contacts import ContactError, normalize_contact

    try:
        user = auth_ops.find_user(normalize_contact(contact))
    except ContactError as exc:
        raise click.BadParameter(str(exc), param_hint="CONTACT") from None
    if user is None:
        raise click.ClickException(f"No account for {contact}.")
    return user


@click.command("end-sessions")
@click.argument("contact")
@with_appcontext
def end_sessions(contact):
    """Sign an account out on every device (a lost phone, someone leaving): its open pages and
    chat or video connections end, and it must sign in again."""
    from odr.auth import sessions

    user = _account(contact)
    ended = sessions.end_all(user, sessions.ENDED_BY_ADMIN, None)
    db.session.commit()
    sessions.close_connections(ended)
    click.echo(f"Ended {len(ended)} session(s) of {user.contact}.")


@click.command("revoke-role")
@click.argument("contact")
@click.option("--role", required=True,
              type=click.Choice(["consultant", "mediator", "arbitrator", "staff", "manager", "court_clerk", "admin"]))
@click.option("--org", "org_id", type=int, help="Only in this organisation (default: wherever it is held).")
@with_appcontext
def revoke_role(contact, role, org_id):
    """Take a role away from an account; its sessions end, so no open page keeps the role."""
    from odr.auth import sessions
    from odr.auth.models import Role
    from odr.cases import operations as case_ops
    from odr.cases.models import Organization

    user = _account(contact)
    org = db.session.get(Organization, org_id) if org_id else None
    if org_id and org is None:
        raise click.BadParameter(f"No organisation {org_id}.", param_hint="--org")
    try:
        ended = case_ops.revoke_role(user, Role(role), org)
    except case_ops.CaseError as exc:
        raise click.ClickException(str(exc.reason)) from None
    db.session.commit()
    sessions.close_connections(ended)
    click.echo(f"{user.contact} no longer holds {role}; {len(ended)} session(s) ended.")


@click.group("api-token")
def api_token():
    """Bearer tokens of outside systems: senders of transfers (POST /api/v1/intake) and, for an
    organisation that is a court, its case system (/api/court/v1)."""


@api_token.command("create")
@click.option("--name", required=True, help="The sending system, e.g. 'hotline-12345'.")
@click.option("--org", "org_id", required=True, type=int, help="Organisation whose queue receives the cases.")
@with_appcontext
def api_token_create(name, org_id):
    """Issue a token; it is printed once and stored only as a hash."""
    from odr.cases import operations as ops
    from odr.cases.models import ApiClient, Organization

    org = db.session.get(Organization, org_id)
    if org is None:
        raise click.BadParameter(f"No organisation {org_id}.", param_hint="--org")
    if db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name)):
        raise click.ClickException(f"A client named {name!r} exists already.")
    client, token = ops.issue_api_token(name, org)
    db.session.commit()
    click.echo(f"Client {client.name} (id {client.id}) → {org.name}")
    click.echo(f"Token (shown once): {token}")


@api_token.command("list")
@with_appcontext
def api_token_list():
    from odr.cases.models import ApiClient

    for client in db.session.scalars(sa.select(ApiClient).order_by(ApiClient.id)):
        state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
        click.echo(f"{client.id:>4}  {client.name:<30} org {client.organization_id:<4} {state}")


@api_token.command("revoke")
@click.argument("name")
@with_appcontext
def api_token_revoke(name):
    from odr.cases import operations as ops
    from odr.cases.models import ApiClient

    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client is None or client.revoked_at:
        raise click.ClickException(f"No active client named {name!r}.")
    ops.revoke_api_token(client)
    db.session.commit()
    click.echo(f"Revoked {name}.")


@api_token.command("callback")
@click.argument("name")
@click.argument("url")
@with_appcontext
def api_token_callback(name, url):
    """Where the system NAME hears about its transfers (signed JSON POSTs to URL); prints the new
    HMAC secret once."""
    from odr.cases import callbacks
    from odr.cases.models import ApiClient

    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client is None or client.revoked_at:
        raise click.ClickException(f"No active client named {name!r}.")
    try:
        secret = callbacks.register(client, url)
    except callbacks.CallbackError as exc:
        raise click.BadParameter(str(exc.reason), param_hint="URL")
    db.session.commit()
    click.echo(f"Callbacks of {name} go to {url}")
    click.echo(f"Secret (shown once; HMAC-SHA256 key of X-ODR-Signature): {secret}")


@click.group("outbox")
def outbox_group():
    """Outgoing SMS and e-mail."""


@outbox_group.command("flush")
@with_appcontext
def outbox_flush():
    """Try again to send messages that are still pending."""
    from odr import outbox

    click.echo(f"{outbox.deliver_pending(limit=10_000)} message(s) sent.")


@click.command("tick")
@with_appcontext
def tick():
    """Run the periodic jobs once (session reminders, …); for cron when JOBS_INTERVAL_SECONDS is 0."""
    from odr import jobs

    for name, result in jobs.run_all().items():
        click.echo(f"{name}: {result}")


@click.group("kb")
def kb_group():
    """The knowledge base."""


@kb_group.command("import")
@click.option("--overwrite", is_flag=True, help="Replace articles edited in the app by the shipped text.")
@with_appcontext
def kb_import(overwrite):
    """Load the articles shipped in odr/consult/kb (new ones only, unless --overwrite)."""
    from odr.consult import kb

    count = kb.import_folder(overwrite=overwrite)
    db.session.commit()
    click.echo(f"{count} article(s) imported.")


@click.group("documents")
def documents_group():
    """PDF documents (award, judicial confirmation, case index, mediation agreement)."""


@documents_group.command("sample")
@click.argument("kind", type=click.Choice(["award", "confirmation", "index", "agreement",
                                              "arbitration-agreement", "complaint"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the PDF.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@with_appcontext
def documents_sample(kind, output, lang):
    """Render a sample document to a file to look at.

    The case documents are rendered from a sample case filed and mediated in a transaction that
    is rolled back afterwards: the database is left as it was (its schema is brought up to date).
    """
    import time
    from pathlib import Path

    from odr import samples

    started = time.perf_counter()
    if kind == "award":
        from odr.documents.award import render_award

        pdf = render_award(samples.sample_award(lang))
    else:
        upgrade_database()
        try:
            pdf = samples.render_sample(kind, lang)
        finally:
            db.session.rollback()
    Path(output).write_bytes(pdf)
    click.echo(f"{output}: {kind} ({lang}), {len(pdf):,} bytes in {time.perf_counter() - started:.2f} s")


@click.command("report")
@click.option("--week", required=True, help="ISO week, e.g. 2026-W47.")
@click.option("--org", "org_id", type=int, help="A center: the report covers it and the organisations reporting to it "
                                                  "(default: every organisation).")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder the PDF and CSV are written to.")
@click.option("--lang", default=None, help="Language of the report (default: the platform's first language).")
@with_appcontext
def report(week, org_id, out_dir, lang):
    """Write the weekly operations report for WEEK as PDF and CSV (odr-report-WEEK.pdf/.csv)."""
    from pathlib import Path

    from flask import current_app
    from flask_babel import force_locale

    from odr.cases.models import Organization
    from odr.ops import queries, report as weekly, summary

    try:
        start = weekly.week_start(week)
    except ValueError:
        raise click.BadParameter("write the week as YYYY-Www, e.g. 2026-W47", param_hint="--week")
    scope = queries.Scope(None, True)
    if org_id is not None:
        org = db.session.get(Organization, org_id)
        if org is None:
            raise click.BadParameter(f"no organisation {org_id}", param_hint="--org")
        scope = weekly.center_scope(org)
    summary.refresh_ops_summaries()
    db.session.commit()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lang = lang or current_app.config["LANGUAGES"][0]
    if lang not in current_app.config["LANGUAGES"]:
        raise click.BadParameter(f"one of {', '.join(current_app.config['LANGUAGES'])}", param_hint="--lang")
    with current_app.test_request_context(), force_locale(lang):
        pdf = weekly.render_pdf_report(scope, start)
        text = weekly.render_csv(scope, start)
    name = f"odr-report-{week}"
    (folder / f"{name}.pdf").write_bytes(pdf)
    (folder / f"{name}.csv").write_text("\ufeff" + text, encoding="utf-8")
    click.echo(f"Wrote {folder / (name + '.pdf')} and {folder / (name + '.csv')}")


@click.group("center")
def center_group():
    """Centers: which organisations report to which center (its managers see their figures)."""


@center_group.command("set")
@click.argument("org_id", type=int)
@click.option("--center", "center_id", type=int, help="The center ORG_ID reports to (leave out: none).")
@with_appcontext
def center_set(org_id, center_id):
    """Make organisation ORG_ID report to a center, or to none."""
    from odr.cases.models import Organization
    from odr.ops import centers

    org = db.session.get(Organization, org_id)
    if org is None:
        raise click.BadParameter(f"no organisation {org_id}", param_hint="ORG_ID")
    center = db.session.get(Organization, center_id) if center_id is not None else None
    if center_id is not None and center is None:
        raise click.BadParameter(f"no organisation {center_id}", param_hint="--center")
    try:
        centers.set_center(org, center)
    except centers.CenterError as exc:
        db.session.rollback()
        from flask import current_app
        from flask_babel import force_locale

        with current_app.test_request_context(), force_locale("en"):  # like the command's other messages
            reason = str(exc.reason)
        raise click.ClickException(reason) from None
    db.session.commit()
    click.echo(f"{org.name} reports to {center.name if center else 'no center'}.")
