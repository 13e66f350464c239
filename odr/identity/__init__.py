"""Real-name identity: verification at a counter or through an OpenID Connect identity provider,
ID numbers validated (GB 11643) and encrypted at rest, and what documents require of signers."""


def init_app(app) -> None:
    """The identity pages, the OpenID Connect client, and who signers are for ``odr.documents``."""
    from odr.cases.labels import register_actions
    from odr.documents.operations import SignerIdentity, set_identity_source
    from odr.identity import oidc, operations, views
    from odr.identity.models import AssuranceLevel

    def signer_identity(user, required: str) -> SignerIdentity:
        found = operations.identity_of(user)
        return SignerIdentity(found.level.value, found.level.satisfies(AssuranceLevel(required)), found.legal_name)

    set_identity_source(signer_identity)
    register_actions(operations.ACTIONS)
    oidc.init_app(app)
    app.register_blueprint(views.bp)
