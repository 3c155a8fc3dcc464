package io.concord.dlm.membership;

import java.net.InetSocketAddress;

/**
 * One node's membership of one lock space.
 *
 * @param name        the node's name (unique in the cluster)
 * @param incarnation the creation zxid of its member znode: a new one each time the node joins
 * @param address     where its DLM transport listens
 */
public record Member(String name, long incarnation, InetSocketAddress address) {}
