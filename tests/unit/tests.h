/* Every unit test, in one place (libuv style). Each X(name) is a function `int test_name(void)`
 * in one of tests/unit/test-*.c that returns 0 when it passes; runner.c runs them in this order. */
#ifndef AC_TESTS_H
#define AC_TESTS_H

#define TEST_LIST(X) \
	/* test-grid.c */ \
	X(options_grid) \
	X(grid_capabilities) \
	X(grid_parse_answers) \
	X(grid_appliers) \
	X(grid_session_life) \
	X(grid_down) \
	/* test-origins.c */ \
	X(origins_list) \
	X(origins_parse) \
	X(origins_host_header) \
	X(origins_log_rate) \
	/* test-tls.c */ \
	X(tls_self_signed) \
	X(tls_load_errors) \
	X(tls_insecure_remote) \
	/* test-proto.c */ \
	X(proto_text_valid) \
	X(proto_text_uses_len) \
	X(proto_text_invalid_json) \
	X(proto_text_trailing_garbage) \
	X(proto_text_not_object) \
	X(proto_text_type) \
	X(proto_text_unknown_type) \
	X(proto_text_id) \
	X(proto_text_hello) \
	X(proto_text_echo) \
	X(proto_text_error) \
	X(proto_text_err_buffer) \
	X(proto_error_json) \
	X(proto_simple_json) \
	X(proto_names) \
	X(proto_encode_requests) \
	X(bridge_replies_by_id) \
	/* test-proto-frame.c */ \
	X(proto_frame_roundtrip) \
	X(proto_frame_layout) \
	X(proto_frame_header_multiple_of_8) \
	X(proto_frame_names) \
	X(proto_frame_truncated) \
	X(proto_frame_bad_magic) \
	X(proto_frame_version) \
	X(proto_frame_bad_dtype) \
	X(proto_frame_bad_rank) \
	X(proto_frame_dims_overflow) \
	X(proto_frame_data_length) \
	X(proto_frame_padding) \
	X(proto_frame_name_nul) \
	X(proto_frame_encode_invalid) \
	X(proto_frame_encode_overflow) \
	/* test-proto-onemsg.c */ \
	X(proto_onemsg_roundtrip) \
	X(proto_onemsg_truncated) \
	X(proto_onemsg_malformed) \
	/* test-caps.c */ \
	X(caps_chromium_swiftshader) \
	X(caps_chromium_shell_webnn) \
	X(caps_webnn_linux_never_hardware) \
	X(caps_firefox_fallback) \
	X(caps_firefox_nvidia_hardware) \
	X(caps_firefox_nvidia_h100) \
	X(caps_chromium_nvidia_h200) \
	X(caps_webgpu_missing) \
	X(caps_webgpu_no_adapter) \
	X(caps_webgpu_software_names) \
	X(caps_webgpu_fallback_missing) \
	X(caps_webnn_api_false) \
	X(caps_webnn_same_error) \
	X(caps_webnn_cpu_software) \
	X(caps_webnn_gpu_hardware) \
	X(caps_wasm_missing) \
	X(caps_insecure_context) \
	X(caps_wrong_types) \
	X(caps_out_of_range_numbers) \
	X(caps_names) \
	/* test-family.c */ \
	X(family_preference_branches) \
	X(family_preference_matches_sched) \
	X(family_orders_and_lists) \
	X(family_shell_locate) \
	/* test-index.c */ \
	X(index_matches_array) \
	X(lat_window_sorted) \
	X(next_queued_matches_scan) \
	/* test-pool.c */ \
	X(pool_managed_lifecycle) \
	X(pool_attached_browser) \
	X(pool_refused_events) \
	X(pool_lost_after_exited) \
	X(pool_settled) \
	X(pool_next_id) \
	X(pool_growth) \
	X(pool_bridge_listening) \
	X(pool_snapshot_json) \
	X(pool_snapshot_nulls) \
	X(pool_session_lanes) \
	X(pool_session_placement) \
	X(pool_state_names) \
	/* test-forget.c */ \
	X(forget_refusals) \
	X(forget_applier) \
	X(forget_churn) \
	X(forget_recorded_and_replayed) \
	X(forget_option) \
	/* test-event.c */ \
	X(event_roundtrip) \
	X(event_unknown_kind) \
	X(event_kind_names) \
	X(event_kind_numbers) \
	X(event_loose_fields) \
	/* test-options.c */ \
	X(options_defaults) \
	X(options_batch) \
	X(options_browsers) \
	X(options_port) \
	X(options_origins) \
	X(options_metrics_listen) \
	X(options_max_message) \
	X(options_parse_size) \
	X(options_parse_size_negative_blank) \
	X(options_unknown) \
	X(options_unknown_in_cluster) \
	X(options_json_needs_batch) \
	X(options_no_launch) \
	X(options_heartbeat) \
	X(options_reparse) \
	X(options_record_replay) \
	X(optdesc_shared) \
	X(optdesc_same_messages) \
	X(optdesc_refusals) \
	/* test-layout.c */ \
	X(layout_sizes) \
	X(layout_too_small) \
	X(layout_columns_priority) \
	X(layout_detail_placement) \
	/* test-format.c */ \
	X(format_status_words) \
	X(format_fit_keeps_status_words) \
	X(format_fit_sanitises) \
	X(format_durations) \
	X(format_numbers) \
	X(format_sparkline) \
	X(format_rows_every_width) \
	X(format_browser_load) \
	X(format_header) \
	X(format_browser_detail) \
	X(format_model_detail) \
	X(format_column_tables) \
	X(format_stale_rtt) \
	/* test-dispatch.c */ \
	X(dispatch_run_to_completion) \
	X(dispatch_queued_failure) \
	X(dispatch_after_outside) \
	/* test-journal.c */ \
	X(journal_events_roundtrip) \
	X(journal_restore_matches_live) \
	X(journal_truncated) \
	X(journal_corrupted) \
	X(journal_wrong_files) \
	X(journal_crc32) \
	X(journal_no_token) \
	X(journal_replays_main_56eb8d2) \
	/* test-checkpoint.c */ \
	X(journal_checkpoint_roundtrip) \
	X(journal_checkpoint_spacing) \
	X(journal_checkpoint_bursts) \
	X(journal_foreign_checkpoints) \
	X(journal_checkpoint_corrupt) \
	X(journal_checkpoints_all_load) \
	/* test-faults.c */ \
	X(faults_request_accounting) \
	X(faults_breakers) \
	X(faults_supervision_events) \
	X(faults_scaling_options) \
	/* test-shards.c */ \
	X(shards_manifest_valid) \
	X(shards_manifest_errors) \
	X(shards_pool_stages) \
	/* test-usage.c */ \
	X(procstat_parse) \
	X(procstat_trees) \
	X(procstat_real_proc) \
	X(pool_usage) \
	X(usage_sampler) \
	X(format_usage) \
	/* test-tune.c */ \
	X(tune_parse_shapes) \
	X(tune_adapter_key) \
	X(tune_max_abs_diff) \
	X(tune_proto_logmel) \
	X(tune_reference_clips) \
	/* test-sched.c */ \
	X(sched_place_auto_pinned_id) \
	X(sched_place_platform_missing) \
	X(sched_place_fallback_wasm) \
	X(sched_place_preference) \
	X(sched_place_edge_webnn) \
	X(sched_window_session) \
	X(sched_window_lanes) \
	X(sched_shard_stages) \
	X(sched_shard_requeue) \
	X(sched_verify_each_lane) \
	X(sched_verify_reference_itself) \
	/* test-sched-faults.c */ \
	X(sched_breaker_open_probe_close) \
	X(sched_breaker_closed_by_earlier_run) \
	X(sched_requeue_on_loss_once) \
	X(sched_requeue_on_reconnect) \
	X(sched_late_reply_after_timeout) \
	/* test-metrics.c */ \
	X(metrics_help_type) \
	X(metrics_escape) \
	X(metrics_histogram) \
	X(metrics_figures) \
	/* test-onnx.c */ \
	X(onnx_real_models) \
	X(onnx_truncated_and_corrupt) \
	X(infer_rules) \
	/* end */

#define X(name) int test_##name(void);
TEST_LIST(X)
#undef X

#endif
