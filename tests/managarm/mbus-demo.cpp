// A program of ours against Managarm's mbus client API (protocols/mbus), for
// `helhost run --mbus`.  Two of them find each other the Managarm way:
//   mbus-demo server         creates an entity with properties, serves its
//                            remote lane, answers "ping" with "pong" and
//                            ends after "bye";
//   mbus-demo client LSMBUS  finds that entity through mbus, gets its remote
//                            lane, exchanges ping/pong, creates an entity of
//                            its own, runs LSMBUS (so that it lists both),
//                            says "bye" and exits with LSMBUS's status.
#include <async/result.hpp>
#include <helix/ipc.hpp>
#include <protocols/mbus/client.hpp>

#include <iostream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const std::string &what) {
	std::cerr << "mbus-demo: " << what << std::endl;
	exit(1);
}

// mbus cannot destroy entities yet (its EntityManager asserts if dropped):
// an entity lives as long as its program.
void keep(mbus_ng::EntityManager manager) {
	new mbus_ng::EntityManager{std::move(manager)};
}

// One conversation on lane: send msg, return the reply.
async::result<std::string> ask(helix::BorrowedLane lane, std::string msg) {
	auto [offer, send, recv] = co_await helix_ng::exchangeMsgs(lane,
			helix_ng::offer(helix_ng::sendBuffer(msg.data(), msg.size()),
					helix_ng::recvInline()));
	HEL_CHECK(offer.error());
	HEL_CHECK(send.error());
	HEL_CHECK(recv.error());
	co_return std::string{static_cast<const char *>(recv.data()), recv.length()};
}

async::result<int> server() {
	mbus_ng::Properties properties{
		{"class", mbus_ng::StringItem{"helhost-demo"}},
		{"unit", mbus_ng::StringItem{"7"}},
		{"tags", mbus_ng::ArrayItem{{mbus_ng::StringItem{"hosted"}, mbus_ng::StringItem{"linux"}}}},
	};
	auto manager = (co_await mbus_ng::Instance::global()
			.createEntity("helhost-demo-server", properties)).unwrap();
	auto [local, remote] = helix::createStream();
	// Completes once a client has asked mbus for the entity's remote lane.
	(co_await manager.serveRemoteLane(std::move(remote))).unwrap();
	keep(std::move(manager));
	for (;;) {
		auto [accept, recv] = co_await helix_ng::exchangeMsgs(local,
				helix_ng::accept(helix_ng::recvInline()));
		HEL_CHECK(accept.error());
		HEL_CHECK(recv.error());
		std::string request{static_cast<const char *>(recv.data()), recv.length()};
		std::string reply = request == "ping" ? "pong" : request;
		auto conversation = accept.descriptor();
		auto [send] = co_await helix_ng::exchangeMsgs(conversation,
				helix_ng::sendBuffer(reply.data(), reply.size()));
		HEL_CHECK(send.error());
		if (request == "bye")
			co_return 0;
		if (request != "ping")
			fail("server: unexpected request \"" + request + "\"");
	}
}

// Waits for the server's entity to appear on mbus and returns its id.
async::result<mbus_ng::EntityId> findServer() {
	auto enumerator = mbus_ng::Instance::global().enumerate(
			mbus_ng::Conjunction({mbus_ng::EqualsFilter{"class", "helhost-demo"}}));
	for (;;) {
		auto [paginated, events] = (co_await enumerator.nextEvents()).unwrap();
		for (auto &event : events) {
			if (event.type != mbus_ng::EnumerationEvent::Type::created)
				continue;
			auto unit = event.properties.find("unit");
			if (event.name != "helhost-demo-server" || unit == event.properties.end()
					|| std::get<mbus_ng::StringItem>(unit->second).value != "7")
				fail("client: unexpected entity \"" + event.name + "\"");
			co_return event.id;
		}
	}
}

int runAndWait(char *program) {
	pid_t pid = fork();
	if (pid < 0)
		fail("client: fork failed");
	if (pid == 0) {
		execl(program, program, static_cast<char *>(nullptr));
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		fail("client: waitpid failed");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

async::result<int> client(char *lsmbus) {
	auto id = co_await findServer();
	auto entity = co_await mbus_ng::Instance::global().getEntity(id);
	auto lane = (co_await entity.getRemoteLane()).unwrap();
	auto reply = co_await ask(lane, "ping");
	if (reply != "pong")
		fail("client: the server answered \"" + reply + "\"");
	std::cout << "mbus-demo client: entity " << id << " answered " << reply << std::endl;

	mbus_ng::Properties properties{
		{"class", mbus_ng::StringItem{"helhost-demo-client"}},
		{"found", mbus_ng::StringItem{std::to_string(id)}},
	};
	keep((co_await mbus_ng::Instance::global()
			.createEntity("helhost-demo-client", properties)).unwrap());
	int status = runAndWait(lsmbus);
	if (co_await ask(lane, "bye") != "bye")
		fail("client: no goodbye");
	co_return status;
}

} // namespace

int main(int argc, char **argv) {
	std::string mode = argc > 1 ? argv[1] : "";
	if (mode == "server" && argc == 2)
		return async::run(server(), helix::currentDispatcher);
	if (mode == "client" && argc == 3)
		return async::run(client(argv[2]), helix::currentDispatcher);
	std::cerr << "usage: mbus-demo server | mbus-demo client LSMBUS" << std::endl;
	return 2;
}
