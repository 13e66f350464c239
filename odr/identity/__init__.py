"""Real-name identity: verification at a counter or through an OpenID Connect identity provider,
ID numbers validated (GB 11643) and encrypted at rest, and what documents require of signers."""


def init_app(app) -> None:
    """The identity pages, the OpenID Connect client, who signers are (and how an ID number
    checked in person is kept) for ``odr.documents``, and who parties are for documents addressed to a court."""
    from odr.cases.court_identity import CourtIdentity
    from odr.cases.court_identity import set_source as set_court_identity_source
    from odr.cases.labels import register_actions
    from odr.documents.operations import IdNumber, SignerIdentity, set_id_number_source, set_identity_source
    from odr.identity import crypto, idnumber, oidc, operations, views
    from odr.identity.models import AssuranceLevel

    def signer_identity(user, required: str) -> SignerIdentity:
        found = operations.identity_of(user)
        return SignerIdentity(found.level.value, found.level.satisfies(AssuranceLevel(required)), found.legal_name)

    def protect_id_number(raw: str) -> IdNumber:
        number = idnumber.validate(raw)
        return IdNumber(idnumber.mask(number), crypto.encrypt(number), crypto.digest(number))

    def court_identity(user) -> CourtIdentity | None:
        found = operations.verification_of(user)
        if found is None or found.level is AssuranceLevel.none:
            return None
        return CourtIdentity(found.legal_name, operations.id_number_for_court(found), found.level.value)

    set_identity_source(signer_identity)
    set_id_number_source(protect_id_number)  # an ID card checked on the spot (odr.field)
    set_court_identity_source(court_identity)  # the full number, on documents addressed to a court only
    register_actions(operations.ACTIONS)
    oidc.init_app(app)
    app.register_blueprint(views.bp)
