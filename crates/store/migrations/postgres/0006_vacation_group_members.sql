-- Group membership vacation mode: who the start-of-vacation run added to a group, so the
-- end-of-vacation run removes only them. CIPP's `VacationGroupMembers` table (PartitionKey =
-- tenant, RowKey = MembershipKey).
CREATE TABLE vacation_group_members (
    tenant         text        NOT NULL,
    membership_key text        NOT NULL,
    group_id       text        NOT NULL,
    -- The users added, as a JSON array of the identities the schedule named.
    users          jsonb       NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant, membership_key)
);
