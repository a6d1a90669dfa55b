"""Several workers on one outbox at once: every delivery is sent once, by one of them."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from zerotrip.config import MessagingSettings, Settings
from zerotrip.db import make_engine, make_sessionmaker
from zerotrip.messaging.models_notifications import Delivery
from zerotrip.messaging.worker import Tally, Worker

from .mailbox import SmtpServer
from .test_crash import populate

N = 60


def test_three_workers_share_the_outbox_without_sending_twice(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = new_database(migrate=True)
    populate(url, N)
    engine = make_engine(url)
    try:
        with SmtpServer() as smtp:
            settings = Settings(
                data_dir=tmp_path,
                database_url=url,
                messaging=MessagingSettings(
                    smtp_host="127.0.0.1",
                    smtp_port=smtp.port,
                    mail_from="no-reply@zwfw.example.cn",
                    batch_size=7,
                    poll_seconds=0.05,
                ),
            )
            workers = [Worker(make_sessionmaker(engine), settings, token=f"w{i}") for i in range(3)]
            tallies: list[Tally] = []
            threads = [
                threading.Thread(target=lambda w=w: tallies.append(w.run(drain=True))) for w in workers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert len(tallies) == 3
            received = Counter(smtp.mailbox.message_ids())
        assert len(received) == N and set(received.values()) == {1}
        assert sum(t.sent for t in tallies) == 2 * N  # the inbox and the e-mail of each
        assert sum(t.lost for t in tallies) == 0
        with make_sessionmaker(engine)() as db:
            deliveries = list(db.scalars(select(Delivery)))
        assert {(d.status, d.attempts, d.is_confirmed) for d in deliveries} == {("sent", 1, True)}
    finally:
        engine.dispose()
