from __future__ import annotations

import pytest

from parley.testing.fake_llm import fake_llm_fixture

fake_llm = pytest.fixture(fake_llm_fixture)
second_llm = pytest.fixture(fake_llm_fixture)
