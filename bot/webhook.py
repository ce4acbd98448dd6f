"""`mentorbot webhook`'s HTTP server: Telegram gets 200 only once an update is handled.

PTB's own webhook server answers 200 as soon as an update is queued in memory, so a
worker killed before handling it loses it: Telegram never sends it again. Here the
update runs through the application's update processor (our unit of work) inside
the request, and the answer waits for it. A worker that dies first never answers;
Telegram (or nginx, see docs/scaling.md) sends the update again, to this worker once
restarted or to another, and `processed_updates` (storage/updates.py) keeps a
repeat of an update whose effects were committed from having them twice.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from typing import Any

from aiohttp import web
from telegram import Update

log = logging.getLogger("mentorbot.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def app_for(
    application: Any, *, url_path: str, secret_token: str | None, max_body: int
) -> web.Application:
    """The aiohttp application that takes Telegram's POSTs on `/<url_path>`."""

    async def receive(request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            raise web.HTTPForbidden()
        if secret_token is not None and not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, ""), secret_token
        ):
            raise web.HTTPForbidden()
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except web.HTTPRequestEntityTooLarge:
            raise
        except (ValueError, TypeError, KeyError):
            # Never the body in the log: it holds what someone wrote.
            log.warning("a webhook request was not a Telegram update")
            raise web.HTTPBadRequest() from None
        if update is not None:
            # Handled before the answer; an error in a handler has been answered to the
            # person by the error handler, so Telegram need not send it again.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=max_body)
    path = "/" + url_path.strip("/")
    app.router.add_post(path, receive)
    app.router.add_post(path + "/", receive)
    return app


async def serve(
    application: Any,
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret_token: str | None,
    max_body: int,
) -> None:
    """Run the bot behind the webhook until SIGINT or SIGTERM, as `run_webhook` would."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await application.initialize()  # a no-op when `_connect` has initialised it already
    if application.post_init:
        await application.post_init(application)
    runner = web.AppRunner(
        app_for(application, url_path=url_path, secret_token=secret_token, max_body=max_body),
        access_log=None,  # the access log would name the token's bot id in every path
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, listen, port).start()
        await application.start()
        await application.bot.set_webhook(
            url=webhook_url, secret_token=secret_token, allowed_updates=Update.ALL_TYPES
        )
        log.info("webhook listening on %s:%s", listen, port)
        await stopping.wait()
    finally:
        # Stop taking requests first, so nothing new starts while the rest winds down.
        await runner.cleanup()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
