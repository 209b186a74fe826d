-- Group membership vacation mode: who the start-of-vacation run added to a group, so the
-- end-of-vacation run removes only them. CIPP's `VacationGroupMembers` table (PartitionKey =
-- tenant, RowKey = MembershipKey). Same table as migrations/postgres/0006; JSON is TEXT.
CREATE TABLE vacation_group_members (
    tenant         TEXT    NOT NULL,
    membership_key TEXT    NOT NULL,
    group_id       TEXT    NOT NULL,
    users          TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant, membership_key)
);
