// File: tools/wsgatectl/commands/subscription.cc — `wsgatectl subscription ...`: an
// application's subscriptions to APIs, each on one business plan.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct CreateFlags {
  std::string plan;
  void Register(common::FlagParser& f) {
    f.AddString("plan", &plan, "business plan the API offers, e.g. AsyncGold", "PLAN");
  }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  v1::CreateSubscriptionRequest req;
  req.set_application(ctx.args[0]);
  req.set_api(ctx.args[1]);
  req.set_plan(flags.plan);
  v1::SubscriptionInfo resp;
  if (absl::Status s = Call(ctx, &Stub::CreateSubscription, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Subscribed ", resp.application_name(), " to ", resp.api(), " on ", resp.plan(),
                                " (id ", resp.id(), ")"));
  return absl::OkStatus();
}

struct ListFlags {
  std::string app, api;
  void Register(common::FlagParser& f) {
    f.AddString("app", &app, "only this application", "APP");
    f.AddString("api", &api, "only this API", "API");
  }
};

absl::Status List(Ctx& ctx, const ListFlags& flags) {
  v1::ListSubscriptionsRequest req;
  req.set_application(flags.app);
  req.set_api(flags.api);
  v1::ListSubscriptionsResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListSubscriptions, req, resp); !s.ok()) return s;
  std::string text = resp.subscriptions().empty() ? "no subscriptions" : "";
  for (const auto& s : resp.subscriptions())
    absl::StrAppend(&text, s.application_name(), "\t", s.api(), "\t", s.plan(), "\t",
                    v1::SubscriptionState_Name(s.state()), "\t", s.id(), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::SubscriptionRef req;
  req.set_subscription(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteSubscription, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "Deleted subscription " + ctx.args[0]);
  return absl::OkStatus();
}

absl::Status SetState(Ctx& ctx, v1::SubscriptionState state) {
  v1::UpdateSubscriptionRequest req;
  req.set_subscription(ctx.args[0]);
  req.set_state(state);
  v1::SubscriptionInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateSubscription, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Subscription ", resp.id(), " is ", v1::SubscriptionState_Name(resp.state())));
  return absl::OkStatus();
}

struct UpdateFlags {
  std::string plan;
  void Register(common::FlagParser& f) {
    f.AddString("plan", &plan, "the new business plan (one the API offers)", "PLAN");
  }
};

absl::Status Update(Ctx& ctx, const UpdateFlags& flags) {
  if (flags.plan.empty()) return absl::InvalidArgumentError("--plan: give the new plan (e.g. AsyncSilver)");
  v1::UpdateSubscriptionRequest req;
  req.set_subscription(ctx.args[0]);
  req.set_plan(flags.plan);
  v1::SubscriptionInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateSubscription, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Subscription ", resp.id(), " is on plan ", resp.plan()));
  return absl::OkStatus();
}

struct BlockFlags {
  bool production_only = false;
  void Register(common::FlagParser& f) {
    f.AddBool("production-only", &production_only, "block production keys only");
  }
};

absl::Status Block(Ctx& ctx, const BlockFlags& flags) {
  return SetState(ctx, flags.production_only ? v1::BLOCKED_PRODUCTION : v1::BLOCKED_ALL);
}

absl::Status Unblock(Ctx& ctx) { return SetState(ctx, v1::ACTIVE); }

}  // namespace

void AddSubscriptionCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("subscription create", "APP API --plan PLAN",
                                 "subscribe an application to a published API", 2, 2, &Create));
  commands.push_back(MakeCommand("subscription list", "", "list subscriptions", 0, 0, &List));
  commands.push_back(
      MakeCommand("subscription delete", "ID", "delete a subscription (its sockets close)", 1, 1, &Delete));
  commands.push_back(MakeCommand("subscription update", "ID --plan PLAN",
                                 "change a subscription's business plan (live sockets get the new limit)", 1, 1,
                                 &Update));
  commands.push_back(MakeCommand("subscription block", "ID",
                                 "block a subscription (--production-only keeps sandbox)", 1, 1, &Block));
  commands.push_back(MakeCommand("subscription unblock", "ID", "make it active again", 1, 1, &Unblock));
}

}  // namespace wsgate::tools::ctl
