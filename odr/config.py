"""Default configuration: the embedded default needs no outside service.

Every value can be overridden from the instance folder's ``config.py`` or from
``ODR_*`` environment variables (``ODR_DATABASE_URL``, ``ODR_SECRET_KEY`` …).
Nothing here is read at import time by the rest of the code; it is loaded by
:func:`odr.create_app`.
"""

#: Signs sessions and CSRF tokens. The factory replaces the placeholder with a
#: random key kept in the instance folder, so a fresh clone is never run with a
#: known key.
SECRET_KEY = None

#: ``None`` means SQLite in the instance folder; set a PostgreSQL URL to scale out.
DATABASE_URL = None

#: Where Flask-Limiter keeps its counters: in-process by default, Redis when scaled out.
RATELIMIT_STORAGE_URI = "memory://"
#: Sign-in attempts allowed per client address.
LOGIN_RATE_LIMIT = "10 per minute;60 per hour"
#: One-time codes a client address may ask for.
CODE_RATE_LIMIT = "5 per minute;30 per hour"

#: argon2id cost, passed to ``argon2.PasswordHasher`` (empty: the library's recommended defaults).
ARGON2_PARAMETERS: dict = {}

#: Intake API requests per sending system (without a valid token: per client address).
INTAKE_RATE_LIMIT = "120 per minute"

#: Failed password attempts before an account is locked, and for how long.
LOCKOUT_THRESHOLD = 5
LOCKOUT_MINUTES = 15

#: One-time sign-in codes.
OTP_TTL_MINUTES = 10
OTP_MAX_ATTEMPTS = 5
OTP_RESEND_SECONDS = 60

#: Languages offered; the first is the default.
LANGUAGES = ["zh", "en"]
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Outbox senders, as ``module:Class``. The console sender writes messages to the log.
SMS_SENDER = "odr.outbox:ConsoleSender"
EMAIL_SENDER = "odr.outbox:ConsoleSender"
SMTP_HOST = "localhost"
SMTP_PORT = 25
SMTP_USERNAME = None
SMTP_PASSWORD = None
SMTP_STARTTLS = False
MAIL_FROM = "odr@localhost"

#: Absolute base URL used in links sent by SMS/e-mail and returned by the API.
#: ``None`` means "the URL of the current request".
BASE_URL = None

#: Largest request body accepted (forms and API); uploads set their own limits.
MAX_CONTENT_LENGTH = 2 * 1024 * 1024

#: Default region for phone numbers written without a country code.
PHONE_REGION = "CN"

WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
#: Send the session cookie only over HTTPS (``odr run --cert/--self-signed`` turns this on; set it
#: behind a proxy that ends TLS). ``None``: whether the app is served over HTTPS (``PREFERRED_URL_SCHEME``).
SECURE_COOKIES = None
#: Behind a reverse proxy (deploy/nginx/odr.conf): how many proxies in front of the app to trust for
#: the client's address, scheme and host (``X-Forwarded-For``/``-Proto``/``-Host``, werkzeug's
#: ProxyFix). 0: none (the app is reached directly; a client could forge those headers).
PROXY_FIX = 0
#: A signed-in browser is signed out after this many minutes without a request (an open chat or
#: video connection counts as activity), and this many hours after signing in, whatever happens.
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12

#: Districts a case can be filed in (shown as a list on the dispute form).
DISTRICTS = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区", "昌平区"]
#: The districts' names in English (shown on English pages; the stored value stays the Chinese name).
DISTRICT_NAMES = {"东城区": "Dongcheng District", "西城区": "Xicheng District", "朝阳区": "Chaoyang District",
                  "海淀区": "Haidian District", "丰台区": "Fengtai District", "石景山区": "Shijingshan District",
                  "通州区": "Tongzhou District", "昌平区": "Changping District"}

#: Socket.IO message queue shared by several app processes (e.g. ``redis://127.0.0.1:6379/0``);
#: ``None`` keeps rooms in this process (embedded default).
SOCKETIO_MESSAGE_QUEUE = None
#: Name of the message queue's channel; also the prefix of the video rooms' keys in Redis, so
#: two deployments (e.g. staging and production) can share one Redis.
SOCKETIO_CHANNEL = "flask-socketio"
#: Socket.IO over websockets only (no long-polling fallback): set by ``odr run --workers N`` with
#: N > 1, whose processes share one port — a polling client's next request may reach another one.
SOCKETIO_WEBSOCKET_ONLY = False
#: Overload (odr.realtime.Load): chat messages, typing and read marks are refused, to be sent again
#: after SOCKET_RETRY_AFTER_SECONDS at the earliest, while this many events are being handled in
#: one process, or while its event loop runs this many milliseconds late. The events in flight are
#: mostly chat messages waiting for their batch's commit: about the delivered rate times a batch's
#: turnaround. On a fast machine, on SQLite, 64 refused from about 2,600 msgs/s while the core had
#: a tenth to spare and 128 delivered a fifth more; on PostgreSQL 128 did no better (two runs of
#: three refused from 1,800-2,200 msgs/s; the refusals come in bursts while a commit takes up to
#: 0.3 s), so the default stays at 64 (bench/README.md, 2026-12-08).
SOCKET_MAX_IN_FLIGHT = 64
SOCKET_MAX_LAG_MS = 250
SOCKET_RETRY_AFTER_SECONDS = 1
#: A connection whose event was refused as overload is not read from for this long before the
#: refusal is answered: a page that floods (or thousands that do) cannot keep the process busy
#: refusing, and the pages and other connections get their turn (TCP holds the rest meanwhile).
#: As long as the retry wait: a page told to send again in a second has nothing to say sooner.
#: At most once per such a period: what came meanwhile is then answered without a pause, so a
#: client that does not wait never has its answer to the server's ping read too late.
SOCKET_SHED_HOLD_SECONDS = 1.0
#: Group commit (odr.realtime.GroupCommit): chat messages arriving within this many milliseconds of
#: each other in one process are written in one transaction, at most CHAT_COMMIT_MAX_MESSAGES of
#: them; each is acknowledged only after that commit. A sender waits at most
#: CHAT_COMMIT_TIMEOUT_SECONDS for it, then is told to send again (the message is saved once
#: however often it is sent: its client_id). Shorter than the page's own wait for an answer (8 s,
#: static/consult.js): an overloaded server says "send again" while the page still listens, instead
#: of answering a page that has given up (the soak counted those as errors at 300–500 users).
#: The same settings hold for the writer of the Socket.IO connections' "last used" notes
#: (odr.auth.sessions.touch), which waits for its commit the same way.
CHAT_COMMIT_WINDOW_MS = 2
CHAT_COMMIT_MAX_MESSAGES = 64
CHAT_COMMIT_TIMEOUT_SECONDS = 5

#: Where uploaded files are kept (default: ``uploads/`` in the instance folder).
UPLOAD_FOLDER = None
#: Largest consultation attachment, in bytes.
CONSULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
#: Largest piece of mediation evidence (photo, PDF, audio), in bytes.
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
#: Largest power of attorney (PDF or photo, checked by content) a party uploads when appointing an agent.
POWER_OF_ATTORNEY_MAX_BYTES = 5 * 1024 * 1024
#: Longest chat message, in characters.
CONSULT_MESSAGE_MAX_CHARS = 2000
#: Minutes a consultation usually takes, until enough have ended to measure it.
CONSULT_DEFAULT_MINUTES = 8

# Service levels: days a case may spend in each stage before it is late. A case turns
# yellow once SLA_YELLOW_SHARE of its time is used, red when the deadline has passed.
SLA_DAYS = {"consultation": 3, "assessment": 7, "mediation": 30, "arbitration": 120, "litigation": 15}
SLA_YELLOW_SHARE = 2 / 3
# Hours a mediator has to accept or decline an assignment before it escalates to staff.
ASSIGNMENT_ANSWER_HOURS = 24

# Arbitration (odr.arbitrate), counted in days from the commission's acceptance: the parties name
# their arbitrator, the claimant submits the statement of claim; the defence is due
# ARBITRATION_DEFENCE_DAYS after the claim. The fee schedule is odr/arbitrate/data/fees.json.
ARBITRATION_NOMINATION_DAYS = 5
ARBITRATION_CLAIM_DAYS = 10
ARBITRATION_DEFENCE_DAYS = 15

#: Hours before a scheduled mediation session when its participants are reminded.
#: Times are shown and entered in ``BABEL_DEFAULT_TIMEZONE``.
SESSION_REMINDER_HOURS = 24
#: Hours before the first offered time when a party who has not picked a time yet is reminded (served).
SESSION_PICK_REMINDER_HOURS = 48
#: Minutes after a video session's end when the platform records who never came into its room.
SESSION_NO_SHOW_GRACE_MINUTES = 30
#: No-shows (each with its session notice served) after which the mediator may end the mediation
#: as failed for non-attendance; the claimant is then offered the court hand-off.
SESSION_NO_SHOW_LIMIT = 2
# Electronic service (odr.cases.service): days an invited respondent has to join or decline, and the
# reminders on the way, by days after the invitation: an SMS, an e-mail, then a call task for the
# centre's staff. After the deadline the case records that the respondent did not respond.
SERVICE_RESPONSE_DAYS = 7
SERVICE_REMINDERS = [{"day": 1, "channel": "sms"}, {"day": 3, "channel": "email"}, {"day": 5, "channel": "call"}]
#: Seconds between runs of the periodic jobs (``odr.jobs``) in the server ``odr run`` starts;
#: 0 leaves them to ``odr tick`` (cron).
JOBS_INTERVAL_SECONDS = 60
#: The live relay (odr.relay): what the jobs tell open pages is stored with their work and sent on
#: by the serving process, which looks for it every LIVE_RELAY_POLL_SECONDS (0: never); an event
#: still unsent after LIVE_RELAY_MAX_AGE_SECONDS (no server was up) is dropped, no longer news.
LIVE_RELAY_POLL_SECONDS = 0.5
LIVE_RELAY_MAX_AGE_SECONDS = 120

# Signed documents (odr.documents). The platform CA is created under <instance>/signing/ on first
# use unless SIGNING_CA_PKCS12 names a PKCS#12 file with its key and certificate (production).
SIGNING_CA_PKCS12 = None
SIGNING_CA_PASSWORD = None
#: The platform seal's key and certificate; without it the CA issues one, kept beside the CA.
SIGNING_SEAL_PKCS12 = None
SIGNING_SEAL_PASSWORD = None
#: Minutes a signer's certificate is valid: it certifies a key made for one signature.
SIGNING_CERT_MINUTES = 30
#: An RFC 3161 timestamp authority (e.g. ``http://timestamp.example/tsa``): signatures and the
#: seal are then timestamped and the sealed file gets a document timestamp (PAdES B-T + DocTimeStamp;
#: not B-LTA: the platform CA publishes no revocation data to embed);
#: without one they are PAdES B-B.
SIGNING_TSA_URL = None
#: Where document files are kept by their SHA-256 (default: ``documents/`` in the instance folder).
DOCUMENT_FOLDER = None
#: Largest PDF the public /verify page checks, and how often one address may use it.
VERIFY_MAX_BYTES = 20 * 1024 * 1024
VERIFY_RATE_LIMIT = "20 per minute"
#: Where court bundles are kept as handed over, by their SHA-256 (default: ``court-bundles/`` in
#: the instance folder).
COURT_BUNDLE_FOLDER = None
# Signed checkpoints of the audit chains (odr.documents.checkpoints), handed to witnesses.
#: Minutes between periodic checkpoints of the chains that moved since the last one.
AUDIT_CHECKPOINT_MINUTES = 60
#: Audit entries younger than this wait for the next checkpoint (a transaction still open may
#: commit an entry with a lower id than one already read).
AUDIT_CHECKPOINT_LAG_SECONDS = 30
#: Heads (leaves of its Merkle tree) per checkpoint, and checkpoints per run of the periodic job:
#: a longer backlog (the first run checkpoints every chain) is signed over the next runs.
AUDIT_CHECKPOINT_MAX_HEADS = 4096
AUDIT_CHECKPOINT_MAX_PER_RUN = 25
#: Checkpoints per page of the public list ``/checkpoints`` and of the court API's feed.
AUDIT_CHECKPOINT_PAGE = 100
# Video rooms (odr.video). No public STUN server is built in: browsers on one network (and the
# tests, loopback only) need none; across the internet configure your own STUN/TURN (coturn).
#: STUN URLs given to browsers, e.g. ``["stun:turn.example.org:3478"]``.
VIDEO_STUN_URLS = []
#: TURN URLs, e.g. ``["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"]``.
VIDEO_TURN_URLS = []
#: coturn's ``static-auth-secret`` (``use-auth-secret``): TURN credentials are made from it per user.
VIDEO_TURN_SECRET = None
#: Seconds a TURN credential stays valid.
VIDEO_TURN_TTL = 3600
#: The media bridge's service token (default: random, kept in the instance folder's ``video-bridge.token``).
VIDEO_BRIDGE_TOKEN = None
#: Where recordings are written (default: ``recordings/`` in the instance folder).
VIDEO_RECORDINGS_DIR = None
#: Where the video rooms' live state (who is connected to which seat) is kept: ``memory://``
#: (one app process) or ``redis://…`` (shared by several). ``None``: the Socket.IO message
#: queue's Redis when there is one, else memory.
VIDEO_PRESENCE_URL = None
#: Early warnings (``odr.ops.warnings``): no-shows at mediation sessions, and times a case was
#: sent on from one organisation to another, that turn a case yellow / red.
WARNING_NO_SHOWS = {"yellow": 1, "red": 2}
WARNING_REROUTES = {"yellow": 2, "red": 3}
#: Transferred cases (hotline, police, grid workers): seconds from arrival to a staff member
#: accepting the case, and to the first contact with the party.
TRANSFER_ACCEPT_SECONDS = 60
TRANSFER_CONTACT_SECONDS = 180
#: Field dispatch (odr.field), the 1-3-8 promise: seconds from a transfer's arrival to the grid
#: worker accepting it, reaching the party, and being on the scene. A dispatch left unaccepted past
#: the first is raised in the command room.
FIELD_ACCEPT_SECONDS = 60
FIELD_CONTACT_SECONDS = 180
FIELD_SCENE_SECONDS = 480
#: Red-list and case-list page size on the dashboard.
OPS_PAGE_SIZE = 25
#: The dashboard's summaries count audit events at least this old (a transaction still open
#: may commit an event with a lower id than one already counted).
OPS_SUMMARY_LAG_SECONDS = 30

#: Direct negotiation (``odr.negotiate``): days from the first offer until the case goes on to
#: mediation without an accepted offer, and the further days the parties have to sign the agreement.
NEGOTIATION_DAYS = 14
NEGOTIATION_SIGNING_DAYS = 7
#: Negotiation first in mediation: for how many days after the case enters mediation each party may
#: choose to negotiate directly before the mediator, and how long that negotiation runs once both chose.
NEGOTIATION_CHOICE_DAYS = 3
NEGOTIATION_IN_MEDIATION_DAYS = 7

#: Performance of agreements (``odr.cases.performance``, ``odr.perform``): days before a due date the
#: payer is reminded; days after it an unconfirmed item turns its case red (yellow from the day after
#: the due date); days from sealing to a one-payment settlement's due date (the agreement says so);
#: the largest receipt accepted.
PERFORMANCE_REMINDER_DAYS = 3
PERFORMANCE_RED_DAYS = 7
PERFORMANCE_SINGLE_PAYMENT_DAYS = 15
RECEIPT_MAX_BYTES = 5 * 1024 * 1024

#: Satisfaction survey (``odr.survey``): figures of an organisation or mediator are shown from this
#: many answers on, so that no one answer can be picked out.
SURVEY_MIN_ANSWERS = 5

#: Real-name identity (``odr.identity``). ``IDENTITY_KEY``: the Fernet key (urlsafe base64 of 32
#: bytes) that encrypts ID numbers at rest; unset, a key is derived from ``SECRET_KEY`` (fine for a
#: demo, warned about when not debugging or testing: a leaked session key would then expose them).
IDENTITY_KEY = None
#: Whether a document kind's identity requirement is enforced when signing (see
#: ``odr.documents.operations.register_kind``).
IDENTITY_REQUIRED_FOR_SIGNING = True
#: An external identity provider over OpenID Connect (a province's or a court's unified sign-in):
#: the issuer URL (its ``/.well-known/openid-configuration`` is read), the client registered
#: there, the name shown on the sign-in page, and the claim carrying the resident ID number, if
#: the provider gives one. Unset issuer: no such sign-in.
OIDC_ISSUER = None
OIDC_CLIENT_ID = None
OIDC_CLIENT_SECRET = None
OIDC_PROVIDER_NAME = "统一身份认证"
OIDC_ID_NUMBER_CLAIM = "id_number"
OIDC_SCOPE = "openid profile phone"
