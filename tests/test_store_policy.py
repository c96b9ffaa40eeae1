"""The policy as data: property-based round trips in memory, through JSON and through the store."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import liveness  # noqa: F401
from liveness.policy import DEFAULT_POLICY, Policy
from liveness.store import auth, policies
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)

FIELDS = {f.name: f for f in dataclasses.fields(Policy)}
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
VALUE_STRATEGIES = {float: finite, int: st.integers(-10**9, 10**9),
                    str: st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40)}


def _strategy(field: dataclasses.Field):
    kind = type(getattr(DEFAULT_POLICY, field.name))
    return VALUE_STRATEGIES[kind]


policies_strategy = st.fixed_dictionaries({name: _strategy(f) for name, f in FIELDS.items()}).map(Policy.from_dict)


def test_a_control_character_in_a_text_field_is_refused():
    with pytest.raises(ValueError, match="version holds a control character"):
        Policy.from_dict({**DEFAULT_POLICY.to_dict(), "version": "2026.12\x00.9"})


@given(policies_strategy)
def test_to_dict_from_dict_round_trip(policy):
    assert Policy.from_dict(policy.to_dict()) == policy
    assert Policy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert Policy.from_dict(policy.to_dict()).digest() == policy.digest()


@given(policies_strategy, st.sampled_from(sorted(set(FIELDS) - {"version"})), st.data())
def test_the_digest_tells_any_change_apart(policy, name, data):
    value = data.draw(_strategy(FIELDS[name]))
    changed = policy.replace(**{name: value})
    assert (changed.digest() == policy.digest()) == (changed == policy)


@given(st.dictionaries(st.text(min_size=1, max_size=20).filter(lambda k: k not in FIELDS), st.integers(),
                       min_size=1, max_size=4))
def test_unknown_fields_are_rejected(extra):
    with pytest.raises(ValueError, match="unknown policy fields"):
        Policy.from_dict({**DEFAULT_POLICY.to_dict(), **extra})


def test_the_shipped_default_round_trips():
    assert Policy.from_dict(DEFAULT_POLICY.to_dict()) == DEFAULT_POLICY


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=policies_strategy)
def test_saved_policies_come_back_identical(store, policy):
    admin = auth.get_user(store, "ana") or auth.create_user(store, "ana", "correct horse battery", "admin")
    if policy.version == DEFAULT_POLICY.version or any(r.version == policy.version
                                                       for r in policies.policy_history(store)):
        with pytest.raises(policies.PolicyVersionExists):
            policies.save_policy(store, policy, admin, "property test")
        return
    policies.save_policy(store, policy, admin, "property test")
    assert policies.current_policy(store).policy == policy
    assert policies.get_policy(store, policy.version).policy.digest() == policy.digest()
