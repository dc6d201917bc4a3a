"""cs-playbook: customer-success assessment playbook.

Data flows one way: ``contract`` (raw files -> validated canonical frames) ->
``analyses`` (pure functions) -> ``charts`` / ``exhibits`` / ``findings`` (used by the
notebooks) -> ``render`` (papermill -> nbconvert -> HTML -> PDF).
"""

__version__ = "0.1.0"
