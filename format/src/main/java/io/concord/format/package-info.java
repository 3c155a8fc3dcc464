/**
 * Concord's whole on-disk format, in one place.
 *
 * <p>Every integer on disk is big-endian (as GFS2's). Every metadata block, log blocks included,
 * opens with a {@link BlockHeader} and is sealed with a CRC32C over the whole block (the CRC field
 * taken as zero); see {@link MetaBlocks}. A block therefore carries its type, its own block number
 * and its filesystem's id, so a misdirected write, a stale block from an earlier mkfs, or a flipped
 * byte are all told apart from good data.
 *
 * <p>Device layout, in blocks of {@link Superblock#blockSize()} bytes:
 * <pre>
 *   0                     superblock
 *   journalStart ...      journalCount journals of journalBlocks each (one per node slot)
 *   rgrpStart ...         rgrpCount resource groups of rgrpBlocks each (the last may be shorter):
 *                         [rgrp header][bitmap blocks][blocks: inodes, tree nodes, xattrs, data]
 * </pre>
 * An inode is one block and its number is that block's number (as GFS2's dinodes), so inodes are
 * allocated from the same bitmaps as everything else and need no table.
 *
 * <p>Versions: format 1 is the first; a structure that changes gets a new format number in its
 * header and the decoder states what each number added.
 */
package io.concord.format;
