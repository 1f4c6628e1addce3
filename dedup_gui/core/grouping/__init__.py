"""From records to duplicate groups: candidate pairs, verification, linkage, the similarity
index, the keeper.
"""
