// What the backup_job and restore tests share: one s3rver for the whole run
// (bucket "bkt"), one large event database (several 5 MiB parts once
// compressed), and the S3 settings and requests that point at them.
#pragma once

#include "backup/backup_job.hpp"
#include "support.hpp"

#include <memory>
#include <string>
#include <vector>

namespace obs::backup::test {

struct shared_fixture {
    temp_dir dir;
    s3rver_process s3{"bkt"};
    std::string big_db;             // ~45 MB of events, created once
    std::int64_t big_rows = 150000;
};

// Created on first use, destroyed (s3rver stopped) at exit.
shared_fixture& shared();

// Settings for an S3 endpoint on 127.0.0.1:port with the S3RVER keys.
s3_config s3_at(unsigned short port, const std::string& bucket = "bkt");

// A request for `db` with its data under `data_dir`, uploading to `s3`;
// fast retries, log lines appended to `log`.
backup_request request_for(const std::string& db, const std::string& data_dir, std::optional<s3_config> s3,
                           std::vector<std::string>* log = nullptr);

}  // namespace obs::backup::test
