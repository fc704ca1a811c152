"""The pipeline: the archiver's verbs, one package per stage, plus the shared verdict and two tools.

Data flow (each stage hands on frozen records; the database holds them between stages):

    articles ─scan─► embeds ─capture─► snapshots ─check─► verdicts ─rewrite─► articles with fallback cards
    (sources)        (stored with each occurrence's byte span)     (states)     (journaled, undoable)

    scan/     articles in, embeds out (`scan_article`, `scan_targets`); our own cards found again
    capture/  each due embed's provider ladder climbed, media stored, snapshot versions recorded
    check/    due embeds looked at again, provider health first; verdicts decide which are gone
    rewrite/  broken embeds replaced by fallback cards: planned, journaled, verified, undoable
    recover/  residue and lost embeds paired with posts from earlier copies in web archives
    mirror/   posts queued by their first capture pushed to the Wayback Machine's Save Page Now
    verdict.py  what an embed's checks say (`decide`, `next_check`, `apply_verdict`): capture and check
    gc.py       media no snapshot shows any more, deleted after a grace period
    export.py   the archive as a WARC file

Import each stage through its front door (`from archiver.pipeline.capture import capture_due`), not its
inner modules. What each may import, besides records, config, clock, errors, providers and storage:

    scan      sources; never capture, check or rewrite
    capture   http and verdict.py
    check     capture (it climbs like a recapture) and, through it, verdict.py
    rewrite   scan (to find the units it replaces), sources, verdict.py's states
    recover   scan (to read archived copies), sources, http
    mirror    http; never another stage (capture queues its posts through storage)
    gc, export  storage only (export also http's redaction)

No stage imports the CLI, the daemon or the web viewer: those edges call the stages.
"""
