// Diesel table definitions, shared by the SQLite and PostgreSQL migrations
// (`migrations/sqlite` and `migrations/postgres` create the same tables and columns).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        is_superuser -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        quota_bytes -> Nullable<BigInt>,
    }
}

diesel::table! {
    groups (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    folders (id) {
        id -> BigInt,
        parent_id -> Nullable<BigInt>,
        owner_id -> Nullable<BigInt>,
        name -> Text,
        created_at -> Timestamp,
        modified_at -> Timestamp,
        trash_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    files (id) {
        id -> BigInt,
        folder_id -> Nullable<BigInt>,
        owner_id -> Nullable<BigInt>,
        original_filename -> Text,
        name -> Text,
        description -> Text,
        is_public -> Bool,
        storage_key -> Text,
        size -> BigInt,
        sha256 -> Text,
        mime_type -> Text,
        created_at -> Timestamp,
        modified_at -> Timestamp,
        trash_id -> Nullable<BigInt>,
        public_before_trash -> Bool,
    }
}

diesel::table! {
    trash (id) {
        id -> BigInt,
        file_id -> Nullable<BigInt>,
        folder_id -> Nullable<BigInt>,
        name -> Text,
        original_folder_id -> Nullable<BigInt>,
        owner_id -> Nullable<BigInt>,
        trashed_by -> Nullable<BigInt>,
        trashed_at -> Timestamp,
        size -> BigInt,
    }
}

diesel::table! {
    shares (id) {
        id -> BigInt,
        token_hash -> Text,
        file_id -> Nullable<BigInt>,
        folder_id -> Nullable<BigInt>,
        kind -> Text,
        label -> Text,
        created_by -> BigInt,
        password_hash -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        max_downloads -> Nullable<BigInt>,
        downloads -> BigInt,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    download_audit (id) {
        id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        username -> Nullable<Text>,
        token_id -> Nullable<BigInt>,
        share_id -> Nullable<BigInt>,
        file_id -> Nullable<BigInt>,
        folder_id -> Nullable<BigInt>,
        file_name -> Text,
        via -> Text,
        size -> BigInt,
        byte_range -> Nullable<Text>,
        status -> Integer,
        outcome -> Text,
        backend -> Text,
        client_addr -> Text,
        user_agent -> Text,
    }
}

diesel::table! {
    file_versions (id) {
        id -> BigInt,
        file_id -> BigInt,
        storage_key -> Text,
        original_filename -> Text,
        size -> BigInt,
        sha256 -> Text,
        mime_type -> Text,
        created_at -> Timestamp,
        replaced_at -> Timestamp,
        replaced_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    images (file_id) {
        file_id -> BigInt,
        width -> Integer,
        height -> Integer,
        orientation -> SmallInt,
        subject_location -> Nullable<Text>,
        alt_text -> Text,
        caption -> Text,
        date_taken -> Nullable<Timestamp>,
    }
}

diesel::table! {
    folder_permissions (id) {
        id -> BigInt,
        folder_id -> Nullable<BigInt>,
        scope -> Text,
        user_id -> Nullable<BigInt>,
        group_id -> Nullable<BigInt>,
        everybody -> Bool,
        can_read -> Nullable<Bool>,
        can_edit -> Nullable<Bool>,
        can_add_children -> Nullable<Bool>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    thumbnails (id) {
        id -> BigInt,
        file_id -> BigInt,
        spec -> Text,
        storage_key -> Text,
        mime_type -> Text,
        size -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    storage_moves (id) {
        id -> BigInt,
        file_id -> BigInt,
        to_public -> Bool,
        state -> Text,
        items -> Text,
        created_at -> Timestamp,
        owner -> Text,
        lease_expires_at -> Timestamp,
    }
}

diesel::table! {
    storage_garbage (id) {
        id -> BigInt,
        storage -> Text,
        storage_key -> Text,
        created_at -> Timestamp,
        owner -> Text,
        lease_expires_at -> Timestamp,
    }
}

diesel::table! {
    permission_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    thumbnail_failures (file_id) {
        file_id -> BigInt,
        reason -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        address -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    login_known_addresses (user_id, address) {
        user_id -> BigInt,
        address -> Text,
        last_login_at -> Timestamp,
    }
}

diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(files -> folders (folder_id));
diesel::joinable!(images -> files (file_id));
diesel::joinable!(file_versions -> files (file_id));
diesel::joinable!(thumbnails -> files (file_id));
diesel::joinable!(thumbnail_failures -> files (file_id));
diesel::joinable!(folder_permissions -> folders (folder_id));
diesel::joinable!(login_known_addresses -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    groups,
    group_members,
    sessions,
    api_tokens,
    folders,
    files,
    trash,
    shares,
    download_audit,
    file_versions,
    images,
    folder_permissions,
    thumbnails,
    thumbnail_failures,
    storage_moves,
    storage_garbage,
    permission_generation,
    login_failures,
    login_known_addresses,
);
