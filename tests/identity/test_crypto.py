"""ID numbers at rest: Fernet under IDENTITY_KEY (or, with a warning outside debugging and tests,
a key derived from SECRET_KEY); another key cannot read them."""

import logging

import pytest
from cryptography.fernet import Fernet, InvalidToken

from odr.identity import crypto

NUMBER = "11010519491231002X"


def test_the_configured_key_encrypts(app):
    key = Fernet.generate_key()
    app.config["IDENTITY_KEY"] = key.decode()
    try:
        with app.app_context():
            token = crypto.encrypt(NUMBER)
            assert NUMBER not in token and Fernet(key).decrypt(token.encode()).decode() == NUMBER
            assert crypto.decrypt(token) == NUMBER
            digest = crypto.digest(NUMBER)
        app.config["IDENTITY_KEY"] = Fernet.generate_key().decode()
        with app.app_context():
            with pytest.raises(InvalidToken):
                crypto.decrypt(token)
            assert crypto.digest(NUMBER) != digest
    finally:
        app.config["IDENTITY_KEY"] = None


def test_a_derived_key_is_warned_about_in_production(app, caplog):
    # Warned once per app: another test may have run this process's shared app out of testing mode.
    app.extensions.pop(crypto._WARNED, None)
    app.testing = False
    try:
        with app.app_context(), caplog.at_level(logging.WARNING, logger="odr.identity.crypto"):
            assert crypto.decrypt(crypto.encrypt(NUMBER)) == NUMBER
    finally:
        app.testing = True
    assert "IDENTITY_KEY is not set" in caplog.text
    assert NUMBER not in caplog.text
