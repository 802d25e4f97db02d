"""What each consumer of this process holds in its consumer group, as the group told it: the
readiness probe's `assigned` check and the partitions `/readyz` lists.

- A consumer has joined once its group gave it an assignment, an empty one included: with more
  replicas than partitions a replica holds none and stands by, taking partitions over at the next
  rebalance, so it is ready.
- It stays joined through later rebalances (holding nothing while one runs): each replica's start
  or stop rebalances every group, and readiness flapping across all replicas then would stall
  rollouts and block evictions for nothing.
- A consumer that has not been given an assignment yet (its first join still running, the group
  coordinator out of reach) has not joined."""

from aiokafka import ConsumerRebalanceListener, TopicPartition


class GroupMembership(ConsumerRebalanceListener):  # type: ignore[misc] # aiokafka is untyped
    """The rebalance listener of one subscriber's consumer."""

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.joined = False
        self.partitions: frozenset[int] = frozenset()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        del revoked  # aiokafka rebalances eagerly: everything is revoked, then assigned anew
        self.partitions = frozenset()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.partitions = frozenset(tp.partition for tp in assigned)
        self.joined = True


class GroupMemberships:
    """The memberships of one process, by consumer group (one subscriber per group)."""

    def __init__(self) -> None:
        self._by_group: dict[str, GroupMembership] = {}

    def listener(self, group_id: str) -> GroupMembership:
        return self._by_group.setdefault(group_id, GroupMembership(group_id))

    def joined(self, group_id: str) -> bool:
        membership = self._by_group.get(group_id)
        return membership is not None and membership.joined

    def held(self) -> dict[str, list[int]]:
        """The partitions each group gave this process, by group id."""
        return {group: sorted(m.partitions) for group, m in sorted(self._by_group.items())}
