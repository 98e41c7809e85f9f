"""A real SMTP server for the account recovery tests (tests/account_recovery.rs).

aiosmtpd speaks SMTP on 127.0.0.1 at a free port, which it prints on stdout's first line. Each
message it receives is parsed with Python's own e-mail parser (so transfer encodings such as
quoted-printable are undone by a reader that is not ours) and written to DIR as NNNN.json:
the envelope's sender and recipients, the message's headers, its plain-text body, and the raw
bytes as received, and the user the client authenticated as. The file appears whole (written,
then renamed). It offers AUTH (PLAIN, LOGIN) without TLS, accepting only the user `mailer` with
the password `smtp-secret-hunter2`, so a test can tell that credentials in the server's SMTP URL
reach the SMTP server and nowhere else. The server stops when its stdin closes, so it never
outlives the test that started it.

    python sink.py DIR
"""

import asyncio
import email
import email.policy
import json
import os
import pathlib
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd warns about its own use of a deprecated attribute; nothing of ours to fix.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")

USER = b"mailer"
PASSWORD = b"smtp-secret-hunter2"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER,
        PASSWORD,
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class Sink:
    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "text": body.get_content() if body is not None else None,
            "raw": raw.decode("utf-8", "replace"),
            "auth_user": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
        }
        path = self.directory / f"{self.count:04}.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(record))
        os.replace(partial, path)
        return "250 Message accepted for delivery"


async def main() -> None:
    directory = pathlib.Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    handler = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="smtp-sink.test",
            authenticator=authenticate,
            auth_require_tls=False,
        ),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    # Serve until whoever started us closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
