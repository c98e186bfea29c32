// SPDX-License-Identifier: MIT
// purge.cc - the frame of the engine: where the queue is, whether acting is
// allowed, the run locks, --max; see purge.h and purge_state.h.
#include "qpurge/app/purge.h"

#include "purge_state.h"
#include "qpurge/act/run_lock.h"
#include "qpurge/app/recover.h"
#include "qpurge/postfix/postconf.h"

namespace qpurge {

// Where the queue is, and whether postsuper would act on the same one.
void Purge::State::resolve_queue() {
  std::string instance_dir, error;
  queue_dir = c.scan.queue_directory;
  // A copy of a spool that is only read needs no instance.
  bool have_instance = (queue_dir.empty() || c.acting()) &&
                       postconf_value(runner, c.postconf, c.exec.config_dir, "queue_directory", instance_dir, error);
  if (queue_dir.empty()) {
    if (!have_instance) throw PurgeFatal("cannot find the queue directory: " + error);
    queue_dir = instance_dir;
  }
  if (c.plan_header) {
    if (c.plan_header->host != sys.hostname())
      throw PurgeFatal("the plan was made on host " + c.plan_header->host + ", not on this one (" + sys.hostname() +
                       ")");
    if (!same_directory(queue_dir, c.plan_header->queue_directory))
      throw PurgeFatal("the plan was made for queue directory " + c.plan_header->queue_directory + ", not " +
                       queue_dir);
  }
  if (c.acting()) check_may_act(have_instance, instance_dir, error);
}

// An acting run holds its queue's lock from before it plans until it is done.
void Purge::State::take_lock() {
  if (!c.acting() || locked_by_caller || !locks.empty()) return;
  LockRequest req;
  req.queue_directories = {queue_dir};
  req.argv = c.argv;
  req.wait_seconds = c.wait_seconds;
  req.on_wait = [this](const std::string& line) { p.note(line); };
  std::string refusal;
  if (!take_run_locks(sys, req, locks, refusal)) throw PurgeFatal(refusal);
}

// What a dead run on this instance left is finished or undone before this
// run plans (app/recover.h); a dry run, which takes no lock, only reports
// it, and only when its writer is not running.
void Purge::State::recover() {
  RecoveryContext rc{queue_dir, c.exec.postsuper, c.audit_log, c.argv, !c.acting()};
  if (!c.acting()) {
    if (c.scan.queue_directory.empty()) recover_instance(rc, sys, runner, p);  // a copy of a spool has no journal
    return;
  }
  Recovery r = recover_instance(rc, sys, runner, p);
  if (r.found && !r.settled)
    throw PurgeFatal("an unfinished earlier run could not be recovered: " + r.error +
                     "; this run changed nothing (see the journal named above; qpurge --recover tries again)");
}

void Purge::State::check_may_act(bool have_instance, const std::string& instance_dir, const std::string& error) {
  if (sys.effective_uid() != 0)
    throw PurgeFatal("acting on the queue is reserved for the superuser, as postsuper is; use --dry-run to look");
  std::string why;
  if (!sys.can_execute(c.exec.postsuper, why)) throw PurgeFatal(why);
  if (!have_instance) throw PurgeFatal("cannot tell which queue postsuper would act on: " + error);
  if (!same_directory(queue_dir, instance_dir))
    throw PurgeFatal("--queue-dir " + queue_dir + " is not the queue directory of the instance postsuper acts on (" +
                     instance_dir + "); it can be read with --dry-run but never purged");
}

Purge::Purge(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer)
    : s_(std::make_unique<State>(config, system, runner, printer)) {}
Purge::~Purge() = default;

std::size_t Purge::planned() const { return s_->entries.size(); }

std::optional<Outcome> Purge::prepare() {
  try {
    s_->resolve_queue();
    s_->resolved = true;
    return std::nullopt;
  } catch (const PurgeFatal& e) {
    return refuse(e.what());
  }
}

Outcome Purge::refuse(const std::string& why) {
  s_->p.fatal(why);
  return Outcome::fatal();
}

const std::string& Purge::queue_directory() const { return s_->queue_dir; }
void Purge::lock_held_by_caller() { s_->locked_by_caller = true; }
void Purge::note(const std::string& line) { s_->p.note(line); }

std::vector<std::optional<Outcome>> prepare_and_lock(std::vector<std::unique_ptr<Purge>>& purges, System& system,
                                                     const RunConfig& config,
                                                     std::vector<std::unique_ptr<RunLock>>& locks) {
  std::vector<std::optional<Outcome>> outcomes;
  LockRequest req;
  req.argv = config.argv;
  req.wait_seconds = config.wait_seconds;
  for (auto& purge : purges) {
    if (!req.on_wait) req.on_wait = [&first = *purge](const std::string& line) { first.note(line); };
    outcomes.push_back(purge->prepare());
    if (!outcomes.back() && config.acting()) req.queue_directories.push_back(purge->queue_directory());
  }
  if (req.queue_directories.empty()) return outcomes;
  std::string refusal;
  if (!take_run_locks(system, req, locks, refusal)) {
    bool said = false;
    for (std::size_t i = 0; i < purges.size(); ++i) {
      if (outcomes[i]) continue;
      outcomes[i] = said ? Outcome::fatal() : purges[i]->refuse(refusal + "; no instance was acted on");
      said = true;
    }
    return outcomes;
  }
  for (std::size_t i = 0; i < purges.size(); ++i)
    if (!outcomes[i]) purges[i]->lock_held_by_caller();
  return outcomes;
}

std::optional<std::string> over_max(std::size_t planned, std::size_t max) {
  if (max == 0 || planned <= max) return std::nullopt;
  return "the plan has " + std::to_string(planned) + " messages, more than --max " + std::to_string(max) +
         "; nothing changed";
}

Outcome purge_mode(const RunConfig& config, System& system, CommandRunner& runner, Printer& printer) {
  Purge purge(config, system, runner, printer);
  std::optional<Outcome> shown = purge.plan();
  std::size_t planned = shown ? shown->planned() : purge.planned();
  if (auto refusal = over_max(planned, config.max)) {
    printer.fatal(*refusal);
    return Outcome::fatal().with_planned(planned);
  }
  if (shown) return *shown;
  return purge.act();
}

}  // namespace qpurge
