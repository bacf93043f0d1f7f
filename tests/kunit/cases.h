/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every KUnit case, once, as X-macro lists: X(suite, name) names the C++ body
 * ckpt_kt_<suite>_<name>(struct kunit *).  ckpt_kunit.c turns the lists into
 * suites; the C++ side declares its bodies from them, so a case listed but
 * not written fails to link, and one written but not listed warns.
 */
#ifndef CKPT_KT_CASES_H
#define CKPT_KT_CASES_H

#define CKPT_KT_CRC32C_CASES(X) \
	X(crc32c, check_value) \
	X(crc32c, empty_input) \
	X(crc32c, streaming_split) \
	X(crc32c, hardware_matches_software) \
	X(crc32c, chooses_the_faster) \
	X(crc32c, unaligned_input)

#define CKPT_KT_CHECKSUM_CASES(X) \
	X(checksum, xxh64_check_value) \
	X(checksum, xxh64_streaming_split) \
	X(checksum, record_checksum_low_bits) \
	X(checksum, default_choice)

#define CKPT_KT_PAGE_ARRAY_CASES(X) \
	X(page_array, empty_chain) \
	X(page_array, one_page) \
	X(page_array, exactly_one_array) \
	X(page_array, one_more_than_an_array) \
	X(page_array, full_chain_refuses_more) \
	X(page_array, reuse_after_release) \
	X(page_array, release_drops_every_reference) \
	X(page_array, destructor_drops_references) \
	X(page_array, arrays_in_address_order) \
	X(page_array, meter_returns_to_zero)

#define CKPT_KT_RECORD_CASES(X) \
	X(record, header_and_crc) \
	X(record, padding_to_eight) \
	X(record, chunks_equal_one_payload) \
	X(record, every_type_round_trips) \
	X(record, corruption_is_detected) \
	X(record, truncation_is_detected) \
	X(record, pages_are_page_aligned) \
	X(record, pages_crc_covers_contents) \
	X(record, tail_chains_crcs) \
	X(record, failed_write_reports_errno) \
	X(record, worker_copy_equals_own)

#define CKPT_KT_SCAN_CASES(X) \
	X(scan, anon_dense) \
	X(scan, anon_holes) \
	X(scan, untouched_not_faulted) \
	X(scan, zero_page_skipped) \
	X(scan, sparse_reservation) \
	X(scan, read_only) \
	X(scan, prot_none) \
	X(scan, file_clean_skipped) \
	X(scan, file_cow_selected) \
	X(scan, file_untouched_not_faulted) \
	X(scan, shared_selected) \
	X(scan, shmem_unmapped_selected) \
	X(scan, shmem_reserved_not_data) \
	X(scan, shmem_at_an_offset) \
	X(scan, thp_as_small_pages) \
	X(scan, batch_boundary) \
	X(scan, references_released) \
	X(scan, stream_decodes_to_memory)

#define CKPT_KT_DUMP_CASES(X) \
	X(dump, bad_fd) \
	X(dump, kernel_thread) \
	X(dump, no_such_pid) \
	X(dump, ldt_empty) \
	X(dump, ldt_one_entry) \
	X(dump, ldt_many_entries) \
	X(dump, mm_goes_away) \
	X(dump, vma_check_sees_changes) \
	X(dump, alloc_failure_at_each_site)

#define CKPT_KT_RESTORE_CASES(X) \
	X(restore, ldt_check_accepts_what_modify_ldt_makes) \
	X(restore, ldt_check_refuses_what_it_cannot) \
	X(restore, maps_and_writes_every_page) \
	X(restore, refuses_hostile_images)

#define CKPT_KT_ALL_CASES(X) \
	CKPT_KT_CRC32C_CASES(X) \
	CKPT_KT_CHECKSUM_CASES(X) \
	CKPT_KT_PAGE_ARRAY_CASES(X) \
	CKPT_KT_RECORD_CASES(X) \
	CKPT_KT_SCAN_CASES(X) \
	CKPT_KT_DUMP_CASES(X) \
	CKPT_KT_RESTORE_CASES(X)

#endif /* CKPT_KT_CASES_H */
