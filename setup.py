"""wcgen: learning from bad data via worst-case generation (JAX/Flax)."""

import setuptools

# Ranges are the ones that resolve together on Python 3.11 today (checked:
# jax 0.10.2, flax 0.12.8, optax 0.2.8, orbax-checkpoint 0.12.8, chex 0.1.92,
# ml_collections 1.1.0, clu 0.0.12, tensorflow-cpu 2.21, tfds 4.9.10).
INSTALL_REQUIRES = [
    "jax>=0.10,<0.11",
    "flax>=0.12,<0.13",
    "optax>=0.2.8,<0.3",
    "orbax-checkpoint>=0.12,<0.13",
    "chex>=0.1.90,<0.2",
    "ml-collections>=1.1,<2",
    "clu>=0.0.12,<0.1",
    # clu.metric_writers imports tensorboard's summary writer lazily.
    "tensorboard>=2.18",
    "tensorflow-cpu>=2.21,<2.22",
    "tensorflow-datasets>=4.9.10,<5",
    # tfds' download_and_prepare needs it and does not declare it.
    "importlib_resources",
    "matplotlib>=3.8",
    # SVHN's .mat reader; t-SNE of the classifier's features.
    "scipy>=1.10",
    "scikit-learn>=1.3",
    "tqdm>=4.60",
    "numpy>=1.26",
    "absl-py",
]

TEST_REQUIRES = [
    "pytest>=8",
    "pytest-xdist>=3.5",
    # notebooks/quickstart.ipynb is executed by the suite.
    "nbformat>=5.9",
    "nbclient>=0.10",
    "ipykernel>=6.29",
]

setuptools.setup(
    name="wcgen",
    version="0.1.0",
    description="Learning from bad data via worst-case generation (JAX/Flax).",
    long_description=open("README.md").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    # `configs` is a package too, so configs import their base as a module
    # and launchers find the sweeps without sys.path edits.
    packages=setuptools.find_packages(include=["wcgen", "wcgen.*", "configs",
                                               "configs.*"]),
    python_requires=">=3.10",
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": TEST_REQUIRES},
)
