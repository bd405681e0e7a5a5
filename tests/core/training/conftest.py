import pytest
from support import binarize_parallel, write_parallel_text


@pytest.fixture(scope="session")
def data_bin(tmp_path_factory):
    root = tmp_path_factory.mktemp("reversal")
    return binarize_parallel(write_parallel_text(root / "text"), root / "data-bin")
