// # Checklists: weekly, monthly, quarterly
// 
// The contract these checks keep: a backup every day at 02:00 UTC, 30 days of retention,
// RPO 24 h, RTO 4 h, PagerDuty after the second failure in a row. Each checklist takes
// the time shown; do it on the same weekday or date each time, and write "done" with
// anything you found in the team's operations log.
// 
// Every command runs from the repository with your shell set up
// ([before any runbook](README.md#before-any-runbook-set-up-your-shell)).
// 
// ## Run it with zx
// 
// Read it once. Then `npx zx runbooks/checklists.md` runs its tested commands in order, from the
// repository folder, in one shell: it asks before each step that changes something
// (`--yes` answers yes for all, as CI does), prints the time of every step and the total,
// and records the run in the audit trail. Pasting the commands by hand works the same.
// 

const { load } = await import('../bin/load.js')
await (await load('runbook')).runRunbook(new URL('checklists.md', import.meta.url))

// 
// ## Weekly (Monday, 15 minutes)
// 
// 1. **Slack**: seven backup success messages since last Monday, no open PagerDuty
//    incident for Lifeboat, no unread warning (anomalies) left without an answer.
// 2. **The backups**: seven new ones, sizes and row counts in line with last week:
// 

// npm run backup:list

// 
// 3. **Freshness and anomalies**: the newest backup is younger than the RPO, no table lost
//    a large share of its rows:
// 

// npm run backup:monitor

// 
// Exit code 1 (`MONITOR_FAILED`): see [troubleshooting](troubleshooting.md#monitor-failed).
// A warning about a table whose rows dropped: ask its owner whether that was intended.
// 
// 4. **A full check of the newest archive** (the nightly run checks only sizes; this reads
//    every byte and checksum):
// 

// npm run backup:verify -- latest

// 
// 5. **Who did what** in the store this week: expect backups, verifications, cleanups and
//    monitoring from GitHub Actions; ask about anything else (a restore nobody mentioned):
// 

// npm run backup:audit -- --since 7d

// 
// ## Monthly (after the drill on the 15th, 30 minutes)
// 
// 1. **The drill passed**: [monthly-drill.md](monthly-drill.md), steps 1–5.
// 2. **Every archive still verifies** (downloads each one; run it where bandwidth is cheap):
// 

// npm run backup:verify -- all

// 
// 3. **Retention does what you expect**: the plan shows what would be deleted and what is
//    kept, and deletes nothing:
// 

// npm run backup:clean -- --dry-run

// 
// The newest backups must be in `keep`; nothing younger than 30 days in `delete`.
// 
// 4. **Trends**: backup size and duration, drill restore times against the RTO:
// 

// npm run backup:report -- --out "$WORK/lifeboat-report.svg"

// 
// 5. **Alert channels still reach people**: a marked test message through each one;
//    check that it arrived in Slack, in the on-call mailbox and in PagerDuty (which
//    resolves it at once):
// 

// npm run alert:test

// 
// ## Quarterly (first week of January, April, July, October, half a day)
// 
// 1. **The DR test**: [quarterly-dr-test.md](quarterly-dr-test.md), all of it.
// 2. **The promise still fits the business**: RTO 4 h and RPO 24 h agreed with the
//    database owner; if the business now needs less data loss than a day, daily
//    backups are not enough (more frequent runs, or point-in-time recovery on the
//    platform).
// 3. **Access review**: who has the operator policy, who are the reviewers of the
//    `infrastructure` environment, who can open the age identity in the password
//    manager (at least two people, none who left).
// 4. **Rotation** of whatever is due: [key-rotation.md](key-rotation.md).
// 5. **Runbook review**: someone new reads these runbooks; unclear steps become issues.
// 6. **Dependencies**: security updates for Node and the packages (`npm outdated`,
//    `npm audit`), applied through a pull request whose CI runs every runbook command.
// 
// ## After any fix: run the backup once
// 
// After fixing a failed backup (a password, a permission, the store), run it once by hand
// so the page resolves and the RPO is safe again: "Run workflow" on the `backup`
// workflow in GitHub Actions, or:
// 
// <!-- manual: needs the gh CLI logged in to the real repository -->

// gh workflow run backup.yml && gh run watch

// 
// From a shell with the production settings it is:
// 

// npm run backup:database

// 
// You should see one line per table and `backup backup-…: N tables, N rows, … at …`,
// exit code 0, and in Slack a success message (and the PagerDuty incident resolved, if one
// was open).
// 